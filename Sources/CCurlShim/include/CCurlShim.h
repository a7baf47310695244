/*
 * CCurlShim — libcurl for Swift, loaded at run time.
 *
 * rdt4nn speaks plain HTTP/1.1 itself (Docker's Unix socket, http:// InfluxDB);
 * libcurl is only needed for https://. Linking it would map libcurl and its TLS,
 * Kerberos, LDAP, SSH… dependencies into every run (about 7 MB resident), so it
 * is not linked: CCurlShim_load dlopen()s libcurl.so.4 (RTLD_NOW | RTLD_LOCAL)
 * the first time an https client is made, and every call below goes through
 * the function pointers it resolved with dlsym. <curl/curl.h> is included for
 * types and constants only; nothing here references a libcurl symbol directly.
 *
 * Swift cannot call C variadic functions (curl_easy_setopt, curl_easy_getinfo),
 * so each setopt/getinfo wrapper fixes one argument type.
 *
 * Visibility: every function is hidden. This target is linked statically into
 * every image that uses it (the host and any plugin .so), so the wrappers must
 * never be exported from, or interposed between, those images.
 *
 * State: none of its own. The caller owns the CCurlShim_library it fills in
 * (the Swift side keeps exactly one, created once and never freed, as the
 * library is never unloaded). libcurl's rules apply: one CURL easy handle is
 * used by one thread at a time.
 *
 * Ownership: string options are copied by libcurl (>= 7.17), except
 * CURLOPT_POSTFIELDS, whose buffer must outlive curl_easy_perform. A curl_slist
 * passed to CCurlShim_setopt_slist must stay alive until the transfer ends (or
 * the option is reset); the caller frees it with CCurlShim_slist_free_all.
 */
#ifndef CCURLSHIM_H
#define CCURLSHIM_H

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <stddef.h>

#define CCURLSHIM_API __attribute__((visibility("hidden")))

/// Signature of CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION callbacks.
/// Must return size * nmemb to continue; any other value aborts the transfer.
typedef size_t (*CCurlShim_data_callback)(char *data, size_t size, size_t nmemb, void *userdata);

/// The libcurl entry points rdt4nn uses, resolved with dlsym.
typedef struct CCurlShim_library {
    /// The dlopen handle (never closed).
    void *handle;
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *handle);
    void (*easy_reset)(CURL *handle);
    CURLcode (*easy_perform)(CURL *handle);
    const char *(*easy_strerror)(CURLcode code);
    CURLcode (*easy_setopt)(CURL *handle, CURLoption option, ...);
    CURLcode (*easy_getinfo)(CURL *handle, CURLINFO info, ...);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *string);
    void (*slist_free_all)(struct curl_slist *list);
    curl_version_info_data *(*version_info)(CURLversion age);
} CCurlShim_library;

/// dlopen()s `soname` (RTLD_NOW | RTLD_LOCAL), resolves every entry point into
/// `library` and runs curl_global_init(CURL_GLOBAL_DEFAULT).
/// Returns 0 on success. On failure returns -1, writes a NUL-terminated
/// message (dlerror's, or which symbol is missing, or the CURLcode of
/// curl_global_init) into `error`, and unloads the library again.
/// Not thread-safe: call it once (Swift does so from a `static let`).
CCURLSHIM_API int CCurlShim_load(const char *soname, CCurlShim_library *library, char *error, size_t errorSize);

/// curl_easy_init.
CCURLSHIM_API CURL *CCurlShim_easy_init(const CCurlShim_library *library);
/// curl_easy_cleanup.
CCURLSHIM_API void CCurlShim_easy_cleanup(const CCurlShim_library *library, CURL *handle);
/// curl_easy_reset (keeps live connections and caches).
CCURLSHIM_API void CCurlShim_easy_reset(const CCurlShim_library *library, CURL *handle);
/// curl_easy_perform.
CCURLSHIM_API CURLcode CCurlShim_easy_perform(const CCurlShim_library *library, CURL *handle);
/// curl_easy_strerror (a static string, never NULL).
CCURLSHIM_API const char *CCurlShim_easy_strerror(const CCurlShim_library *library, CURLcode code);
/// curl_slist_append (NULL when out of memory).
CCURLSHIM_API struct curl_slist *CCurlShim_slist_append(const CCurlShim_library *library, struct curl_slist *list, const char *string);
/// curl_slist_free_all (NULL is fine).
CCURLSHIM_API void CCurlShim_slist_free_all(const CCurlShim_library *library, struct curl_slist *list);
/// libcurl's version string, e.g. "7.88.1".
CCURLSHIM_API const char *CCurlShim_version(const CCurlShim_library *library);

/// curl_easy_setopt for options taking a `char *` (copied by libcurl except POSTFIELDS).
CCURLSHIM_API CURLcode CCurlShim_setopt_string(const CCurlShim_library *library, CURL *handle, CURLoption option, const char *value);
/// curl_easy_setopt for options taking a `long`.
CCURLSHIM_API CURLcode CCurlShim_setopt_long(const CCurlShim_library *library, CURL *handle, CURLoption option, long value);
/// curl_easy_setopt for options taking a `curl_off_t` (e.g. CURLOPT_POSTFIELDSIZE_LARGE).
CCURLSHIM_API CURLcode CCurlShim_setopt_off_t(const CCurlShim_library *library, CURL *handle, CURLoption option, curl_off_t value);
/// curl_easy_setopt for options taking a `void *` / `char *` that libcurl does not copy
/// (CURLOPT_WRITEDATA, CURLOPT_HEADERDATA, CURLOPT_ERRORBUFFER, CURLOPT_POSTFIELDS).
CCURLSHIM_API CURLcode CCurlShim_setopt_pointer(const CCurlShim_library *library, CURL *handle, CURLoption option, void *value);
/// Sets CURLOPT_WRITEFUNCTION (body data).
CCURLSHIM_API CURLcode CCurlShim_setopt_write_function(const CCurlShim_library *library, CURL *handle, CCurlShim_data_callback fn);
/// Sets CURLOPT_HEADERFUNCTION (one complete header line per call, CRLF included).
CCURLSHIM_API CURLcode CCurlShim_setopt_header_function(const CCurlShim_library *library, CURL *handle, CCurlShim_data_callback fn);
/// Sets CURLOPT_HTTPHEADER. `list` may be NULL to clear the list.
CCURLSHIM_API CURLcode CCurlShim_setopt_slist(const CCurlShim_library *library, CURL *handle, CURLoption option, struct curl_slist *list);
/// curl_easy_getinfo for `long` results (e.g. CURLINFO_RESPONSE_CODE).
CCURLSHIM_API CURLcode CCurlShim_getinfo_long(const CCurlShim_library *library, CURL *handle, CURLINFO info, long *value);

/// CURL_ERROR_SIZE, as a function because Swift may not import the macro's type as wanted.
CCURLSHIM_API size_t CCurlShim_error_size(void);

#endif /* CCURLSHIM_H */
