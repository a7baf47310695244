#include "CCurlShim.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

static void *resolve(void *handle, const char *name, const char *soname, char *error, size_t errorSize, int *failed) {
    if (*failed) return NULL;
    void *symbol = dlsym(handle, name);
    if (symbol == NULL) {
        snprintf(error, errorSize, "%s has no %s", soname, name);
        *failed = 1;
    }
    return symbol;
}

int CCurlShim_load(const char *soname, CCurlShim_library *library, char *error, size_t errorSize) {
    memset(library, 0, sizeof *library);
    if (errorSize > 0) error[0] = 0;
    void *handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *reason = dlerror();
        snprintf(error, errorSize, "%s", reason != NULL ? reason : "dlopen failed");
        return -1;
    }
    int failed = 0;
#define RESOLVE(field, name) library->field = (__typeof__(library->field))resolve(handle, name, soname, error, errorSize, &failed)
    RESOLVE(global_init, "curl_global_init");
    RESOLVE(easy_init, "curl_easy_init");
    RESOLVE(easy_cleanup, "curl_easy_cleanup");
    RESOLVE(easy_reset, "curl_easy_reset");
    RESOLVE(easy_perform, "curl_easy_perform");
    RESOLVE(easy_strerror, "curl_easy_strerror");
    RESOLVE(easy_setopt, "curl_easy_setopt");
    RESOLVE(easy_getinfo, "curl_easy_getinfo");
    RESOLVE(slist_append, "curl_slist_append");
    RESOLVE(slist_free_all, "curl_slist_free_all");
    RESOLVE(version_info, "curl_version_info");
#undef RESOLVE
    if (!failed) {
        CURLcode code = library->global_init(CURL_GLOBAL_DEFAULT);
        if (code != CURLE_OK) {
            snprintf(error, errorSize, "curl_global_init failed: %s (curl error %d)", library->easy_strerror(code), (int)code);
            failed = 1;
        }
    }
    if (failed) {
        memset(library, 0, sizeof *library);
        dlclose(handle);
        return -1;
    }
    library->handle = handle;
    return 0;
}

CURL *CCurlShim_easy_init(const CCurlShim_library *library) {
    return library->easy_init();
}

void CCurlShim_easy_cleanup(const CCurlShim_library *library, CURL *handle) {
    library->easy_cleanup(handle);
}

void CCurlShim_easy_reset(const CCurlShim_library *library, CURL *handle) {
    library->easy_reset(handle);
}

CURLcode CCurlShim_easy_perform(const CCurlShim_library *library, CURL *handle) {
    return library->easy_perform(handle);
}

const char *CCurlShim_easy_strerror(const CCurlShim_library *library, CURLcode code) {
    const char *text = library->easy_strerror(code);
    return text != NULL ? text : "unknown libcurl error";
}

struct curl_slist *CCurlShim_slist_append(const CCurlShim_library *library, struct curl_slist *list, const char *string) {
    return library->slist_append(list, string);
}

void CCurlShim_slist_free_all(const CCurlShim_library *library, struct curl_slist *list) {
    library->slist_free_all(list);
}

const char *CCurlShim_version(const CCurlShim_library *library) {
    curl_version_info_data *info = library->version_info(CURLVERSION_NOW);
    return info != NULL && info->version != NULL ? info->version : "unknown";
}

CURLcode CCurlShim_setopt_string(const CCurlShim_library *library, CURL *handle, CURLoption option, const char *value) {
    return library->easy_setopt(handle, option, value);
}

CURLcode CCurlShim_setopt_long(const CCurlShim_library *library, CURL *handle, CURLoption option, long value) {
    return library->easy_setopt(handle, option, value);
}

CURLcode CCurlShim_setopt_off_t(const CCurlShim_library *library, CURL *handle, CURLoption option, curl_off_t value) {
    return library->easy_setopt(handle, option, value);
}

CURLcode CCurlShim_setopt_pointer(const CCurlShim_library *library, CURL *handle, CURLoption option, void *value) {
    return library->easy_setopt(handle, option, value);
}

CURLcode CCurlShim_setopt_write_function(const CCurlShim_library *library, CURL *handle, CCurlShim_data_callback fn) {
    return library->easy_setopt(handle, CURLOPT_WRITEFUNCTION, fn);
}

CURLcode CCurlShim_setopt_header_function(const CCurlShim_library *library, CURL *handle, CCurlShim_data_callback fn) {
    return library->easy_setopt(handle, CURLOPT_HEADERFUNCTION, fn);
}

CURLcode CCurlShim_setopt_slist(const CCurlShim_library *library, CURL *handle, CURLoption option, struct curl_slist *list) {
    return library->easy_setopt(handle, option, list);
}

CURLcode CCurlShim_getinfo_long(const CCurlShim_library *library, CURL *handle, CURLINFO info, long *value) {
    return library->easy_getinfo(handle, info, value);
}

size_t CCurlShim_error_size(void) {
    return CURL_ERROR_SIZE;
}
