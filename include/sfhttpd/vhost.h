/*
 * vhost.h - virtual hosts: which site answers a request, by the host it
 * names (the Host header, or the authority of an absolute-form target).
 * Pure: it reads the immutable config and the request, nothing else.
 *
 * Matching is case-insensitive and ignores the port and one trailing dot.
 * An exact name wins over a wildcard; among wildcards ("*.example.com",
 * which matches any subdomain but not example.com itself) the longest
 * wins; among equals, the first site in the file. A host no site names
 * (or no host at all, as HTTP/1.0 allows) goes to the default site: the
 * one with "default = on", else the first, or nowhere when strict_hosts
 * is on (the caller answers 421 Misdirected Request).
 */
#ifndef SFHTTPD_VHOST_H
#define SFHTTPD_VHOST_H

#include <stdbool.h>
#include <stddef.h>

#include "sfhttpd/config.h"
#include "sfhttpd/request.h"

/* Longest host name compared (DNS allows 253 characters, IPv6 literals
 * with a zone are shorter); longer hosts match no name. */
#define SF_VHOST_NAME_MAX 255

/*
 * The site for host (len bytes, not NUL-terminated, may be NULL when the
 * request named none): its index in cfg->sites, or -1 when strict_hosts
 * is on and no site names the host. With no sites at all, -1.
 */
int sf_vhost_select(const struct sf_config *cfg, const char *host, size_t len);

/* The default site's index: the first with is_default, else 0. */
size_t sf_vhost_default(const struct sf_config *cfg);

/*
 * The host a parsed request names: the authority of an absolute-form
 * target (between "://" and the path), else the Host header. Returns a
 * pointer into buf and sets *len, or NULL (and *len = 0) when there is
 * none.
 */
const char *sf_vhost_request_host(const struct sf_parser *p, const char *buf, size_t *len);

/*
 * Check a server_names entry from the config and write its stored form
 * (lower-case, without a trailing dot) to out (SF_VHOST_NAME_MAX + 1
 * bytes). Accepted: a DNS name (letters, digits, '-', '_', dots between
 * labels), "*." followed by one, an IPv4 address, or an IPv6 address in
 * brackets. No port. Returns 0, or -EINVAL with *why set to a message.
 */
int sf_vhost_name_parse(const char *name, char *out, const char **why);

#endif
