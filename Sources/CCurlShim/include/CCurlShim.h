/*
 * CCurlShim — non-variadic wrappers around libcurl for Swift.
 *
 * Swift cannot call C variadic functions or function-like macros, and libcurl's
 * curl_easy_setopt / curl_easy_getinfo are both (variadic, and macros under
 * typecheck-gcc.h). Each wrapper below fixes one argument type.
 *
 * Visibility: every function is hidden. This target is linked statically into
 * every image that uses it (the host and any plugin .so), so the wrappers must
 * never be exported from, or interposed between, those images.
 *
 * Threading: the wrappers add no state of their own; libcurl's rules apply —
 * one CURL easy handle must be used by one thread at a time.
 *
 * Ownership: string options are copied by libcurl (>= 7.17), except
 * CURLOPT_POSTFIELDS, whose buffer must outlive curl_easy_perform. A curl_slist
 * passed to CCurlShim_setopt_slist must stay alive until the transfer ends (or
 * the option is reset); the caller frees it with curl_slist_free_all.
 */
#ifndef CCURLSHIM_H
#define CCURLSHIM_H

#include <curl/curl.h>

#define CCURLSHIM_API __attribute__((visibility("hidden")))

/// Signature of CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION callbacks.
/// Must return size * nmemb to continue; any other value aborts the transfer.
typedef size_t (*CCurlShim_data_callback)(char *data, size_t size, size_t nmemb, void *userdata);

/// curl_easy_setopt for options taking a `char *` (copied by libcurl except POSTFIELDS).
CCURLSHIM_API CURLcode CCurlShim_setopt_string(CURL *handle, CURLoption option, const char *value);
/// curl_easy_setopt for options taking a `long`.
CCURLSHIM_API CURLcode CCurlShim_setopt_long(CURL *handle, CURLoption option, long value);
/// curl_easy_setopt for options taking a `curl_off_t` (e.g. CURLOPT_POSTFIELDSIZE_LARGE).
CCURLSHIM_API CURLcode CCurlShim_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);
/// curl_easy_setopt for options taking a `void *` / `char *` that libcurl does not copy
/// (CURLOPT_WRITEDATA, CURLOPT_HEADERDATA, CURLOPT_ERRORBUFFER, CURLOPT_POSTFIELDS).
CCURLSHIM_API CURLcode CCurlShim_setopt_pointer(CURL *handle, CURLoption option, void *value);
/// Sets CURLOPT_WRITEFUNCTION (body data).
CCURLSHIM_API CURLcode CCurlShim_setopt_write_function(CURL *handle, CCurlShim_data_callback fn);
/// Sets CURLOPT_HEADERFUNCTION (one complete header line per call, CRLF included).
CCURLSHIM_API CURLcode CCurlShim_setopt_header_function(CURL *handle, CCurlShim_data_callback fn);
/// Sets CURLOPT_HTTPHEADER. `list` may be NULL to clear the list.
CCURLSHIM_API CURLcode CCurlShim_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *list);
/// curl_easy_getinfo for `long` results (e.g. CURLINFO_RESPONSE_CODE).
CCURLSHIM_API CURLcode CCurlShim_getinfo_long(CURL *handle, CURLINFO info, long *value);

/// CURL_ERROR_SIZE, as a function because Swift may not import the macro's type as wanted.
CCURLSHIM_API size_t CCurlShim_error_size(void);
/// CURL_GLOBAL_DEFAULT as a long, for curl_global_init.
CCURLSHIM_API long CCurlShim_global_default_flags(void);

#endif /* CCURLSHIM_H */
