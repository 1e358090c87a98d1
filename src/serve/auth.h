/* SPDX-License-Identifier: Apache-2.0 */
/* husk serve: who may talk to the front door (issue 13).
 *
 * sigv4.c   AWS Signature Version 4: the verifier of the front door and the signer of husk's own
 *           clients (`husk fn invoke`), sharing one canonical-request builder. Pure code over a
 *           serve_req and an injected clock; HMAC-SHA256 and SHA-256 from libcrypto.
 * creds.c   STORE/credentials: one access key id and secret, created at the first start (mode
 *           0600), in the AWS CLI's credentials-file format. */
#ifndef HUSK_SERVE_AUTH_H
#define HUSK_SERVE_AUTH_H

#include "serve.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define SERVE_KEY_ID_LEN 20
#define SERVE_SECRET_LEN 40
#define SERVE_SIGV4_SKEW_S (15 * 60)        /* AWS: a signature is good 15 minutes either way */
#define SERVE_SIGV4_EXPIRES_MAX (7 * 86400) /* X-Amz-Expires of a presigned request */

typedef struct serve_creds {
        char key_id[SERVE_KEY_ID_LEN + 1];
        char secret[SERVE_SECRET_LEN + 1];
} serve_creds;

typedef struct serve_auth {
        const char *region; /* the scope's region must be this one */
        serve_creds creds;
} serve_auth;

typedef enum serve_auth_status {
        SERVE_AUTH_OK = 0,
        SERVE_AUTH_MISSING,       /* neither an Authorization header nor X-Amz-Signature */
        SERVE_AUTH_MALFORMED,     /* an Authorization that cannot be parsed, no date, ... */
        SERVE_AUTH_UNKNOWN_KEY,   /* an access key id that is not ours */
        SERVE_AUTH_BAD_SIGNATURE, /* the signature does not match (or wrong region/service) */
        SERVE_AUTH_EXPIRED,       /* X-Amz-Date too far from now, or a presigned URL expired */
} serve_auth_status;

/* Checks r's signature for service ("sqs", "lambda") at now. why gets a message for the
 * client (never the secret or the expected signature). */
serve_auth_status serve_sigv4_verify(const serve_auth *a, const serve_req *r, const char *service,
                                     time_t now, char *why, size_t why_len);

/* The value of the Authorization header for r (its method, raw_path, query, headers and body)
 * signed with creds for region/service at amz_date ("YYYYMMDDTHHMMSSZ", which r must carry as
 * X-Amz-Date when x-amz-date is among signed_headers). signed_headers: lower-case names joined
 * by ';' in sorted order, each present in r. NULL when one is missing. */
char *serve_sigv4_sign(const serve_req *r, const serve_creds *creds, const char *region,
                       const char *service, const char *amz_date, const char *signed_headers);

/* "YYYYMMDDTHHMMSSZ" for t (UTC). */
void serve_amz_date(time_t t, char out[17]);

/* ---- parts, exposed for the unit tests and the fuzz harness ---- */
typedef struct serve_sigv4_parts {
        char key_id[128];
        char date[9];  /* of the scope: YYYYMMDD */
        char region[64];
        char service[64];
        char signed_headers[1024];
        char signature[65];
} serve_sigv4_parts;
/* "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b,
 * Signature=HEX". -EINVAL when malformed (why says how). */
int serve_sigv4_parse_authorization(const char *v, serve_sigv4_parts *ret, char *why,
                                    size_t why_len);
/* The canonical request (AWS's "Task 1"). flags: SERVE_SIGV4_PATH_AS_SENT takes the path as
 * sent instead of encoded once more; SERVE_SIGV4_QUERY_AS_SENT the query as sent instead of
 * sorted and re-encoded (curl 7.88 signs both that way); SERVE_SIGV4_PRESIGNED drops
 * X-Amz-Signature from the query. method NULL: r's. -EINVAL when a signed header is absent or
 * the query is malformed. */
#define SERVE_SIGV4_PATH_AS_SENT 1u
#define SERVE_SIGV4_QUERY_AS_SENT 2u
#define SERVE_SIGV4_PRESIGNED 4u
int serve_sigv4_canonical(const serve_req *r, const char *method, const char *signed_headers,
                          const char *payload_hash, unsigned flags, char **ret);

/* ---- creds.c ---- */
/* STORE/credentials: reads it, or creates it with a new random key when it does not exist
 * (create = true). Refuses a file that others may read or that is not the caller's. */
int serve_creds_load(const char *store, bool create, serve_creds *ret, char *why, size_t why_len);
char *serve_creds_path(const char *store);

#endif
