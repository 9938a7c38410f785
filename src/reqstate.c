/*
 * reqstate.c - the in-flight state of a request, pooled (reqstate.h).
 */
#include "sfhttpd/reqstate.h"

#include <assert.h>

#include "sfhttpd/config.h"
#include "sfhttpd/fcache.h"
#include "sfhttpd/log.h"
#include "sfhttpd/pool.h"
#include "sfhttpd/vhost.h"

/* A state is made clean: empty buffer, fresh parser, empty response. */
static void
state_init(void *obj, const void *arg)
{
    const struct sf_config *cfg = arg;
    struct sf_reqstate *s = obj;
    s->rb = (struct sf_reqbuf){.buf = s->buf, .cap = cfg->max_header_size + SF_REQUEST_SLACK};
    struct sf_limits lim = {
        .max_header_size = cfg->max_header_size,
        .max_uri_length = cfg->max_uri_length,
        .max_headers = cfg->max_headers,
        .max_body_size = cfg->max_body_size,
    };
    sf_request_init(&s->parser, &lim);
    sf_response_init(&s->resp);
    s->cur = (struct sf_file_user){.sock = -1};
}

static void
state_fini(void *obj, const void *arg)
{
    struct sf_reqstate *s = obj;
    (void)arg;
    sf_response_free(&s->resp);
}

void
sf_reqstate_pool_init(struct sf_pool *p, const struct sf_config *cfg)
{
    sf_pool_init(p, sizeof(struct sf_reqstate) + cfg->max_header_size + SF_REQUEST_SLACK,
                 SF_REQSTATE_KEEP, state_init, state_fini, cfg);
}

struct sf_reqstate *
sf_reqstate_get(struct sf_pool *p, int sock, sf_file_abort_fn abort, void *arg)
{
    struct sf_reqstate *s = sf_pool_get(p);
    if (!s)
        return NULL;
    s->cur.sock = sock;
    s->cur.abort = abort;
    s->cur.arg = arg;
    return s;
}

void
sf_reqstate_put(struct sf_pool *p, struct sf_reqstate *s, bool clean)
{
    if (!clean) {
        sf_fcache_detach(&s->cur);
        sf_response_reset(&s->resp);
        struct sf_limits lim = s->parser.limits;
        sf_request_init(&s->parser, &lim);
        s->rb.rpos = s->rb.wpos = 0;
    }
    assert(!s->cur.file && s->rb.wpos == 0 && s->resp.st.fd < 0 && !s->resp.st.file);
    s->cur = (struct sf_file_user){.sock = -1};
    sf_pool_put(p, s);
}

void
sf_reqstate_access(const struct sf_reqstate *s, struct sf_access *a)
{
    const struct sf_parser *p = &s->parser;
    const char *buf = s->rb.buf;
    a->request_line = p->r.line.len ? buf + p->r.line.off : NULL;
    a->request_line_len = p->r.line.len;
    a->host = sf_vhost_request_host(p, buf, &a->host_len);
    a->referer = sf_request_hdr(p, buf, SF_HDR_REFERER, &a->referer_len);
    a->user_agent = sf_request_hdr(p, buf, SF_HDR_USER_AGENT, &a->user_agent_len);
    a->status = s->resp.st.status;
    a->bytes_sent = s->resp.st.body_sent;
    a->body_length = s->resp.st.content_length;
}
