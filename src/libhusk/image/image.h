/* SPDX-License-Identifier: Apache-2.0 */
/* Internal header of the image module: digests, media types, entry planning (pure), layer apply,
 * image sources (folder or archive) and manifest parsing. */
#ifndef HUSK_IMAGE_INTERNAL_H
#define HUSK_IMAGE_INTERNAL_H

#include "husk/image.h"
#include "util/util.h"

#include <sys/types.h>

/* ---- digests (SHA-256 through OpenSSL EVP) ---- */
#define DIGEST_HEX_LEN 64
typedef struct digest_ctx {
        void *md; /* EVP_MD_CTX */
} digest_ctx_t;
/* The xattr that marks an opaque directory in a layer: trusted.overlay.opaque, or rootless (the
 * overlay is mounted with "userxattr") user.overlay.opaque. */
static inline const char *image_opaque_xattr(void)
{
        return util_rootless() ? "user.overlay.opaque" : "trusted.overlay.opaque";
}
int digest_init(digest_ctx_t *d);
void digest_update(digest_ctx_t *d, const void *buf, size_t len);
/* Writes 64 lowercase hex digits + NUL into hex and frees the context. */
void digest_final(digest_ctx_t *d, char hex[DIGEST_HEX_LEN + 1]);
void digest_done(digest_ctx_t *d);
/* SHA-256 of a buffer. */
void digest_buffer(const void *buf, size_t len, char hex[DIGEST_HEX_LEN + 1]);
/* Parses "sha256:<64 lowercase hex>" into hex. -EINVAL when malformed, -EOPNOTSUPP for another
 * algorithm (sha512 ...). */
int digest_parse(const char *s, char hex[DIGEST_HEX_LEN + 1]);
/* True when s is exactly 64 lowercase hex digits. */
bool digest_hex_valid(const char *s);

/* ---- media types ---- */
typedef enum media_kind {
        MEDIA_UNKNOWN = 0,
        MEDIA_INDEX,    /* OCI image index or Docker manifest list */
        MEDIA_MANIFEST, /* OCI or Docker v2 schema 2 manifest */
        MEDIA_CONFIG,   /* OCI or Docker image config */
        MEDIA_LAYER,
} media_kind_t;
typedef enum compression {
        COMP_NONE = 0,
        COMP_GZIP,
        COMP_ZSTD,
        COMP_AUTO, /* detect (docker-save layer.tar, rootfs tarballs) */
} compression_t;
media_kind_t media_type_parse(const char *mt, compression_t *ret_comp);
const char *compression_name(compression_t c);

/* ---- image names (pure; unit tested) ---- */
/* The Docker/OCI distribution reference grammar: [DOMAIN[:PORT]/]PATH[:TAG][@DIGEST], PATH of
 * lowercase components; RepoTags and io.containerd.image.name. */
bool image_reference_valid(const char *ref);
/* The OCI image-spec grammar of org.opencontainers.image.ref.name: components of [A-Za-z0-9]
 * joined by -._:@+ or "--", separated by '/'. */
bool image_ref_name_valid(const char *name);
/* A printable, quoted-string-safe copy of an untrusted name for messages (\n, \xNN, cut at
 * 120 bytes). */
char *image_name_escape(const char *s);

/* ---- entry planning (pure; unit tested) ---- */
/* Normalises a tar entry name: drops "." components, empty components and a trailing '/'.
 * Rejects absolute names, ".." components and over-long names (returns -EINVAL, *ret_reason set).
 * The root itself becomes "". */
int image_path_clean(const char *name, char **ret, const char **ret_reason);

typedef enum entry_action {
        ACT_SKIP = 0,   /* nothing to do (root entry, aufs metadata) */
        ACT_DIR,
        ACT_FILE,
        ACT_SYMLINK,
        ACT_HARDLINK,
        ACT_FIFO,
        ACT_WHITEOUT,   /* .wh.NAME: char 0:0 device NAME in the parent */
        ACT_OPAQUE,     /* .wh..wh..opq: image_opaque_xattr()=y on the parent */
        ACT_SKIP_DEVICE,/* block/char device or socket: never created */
        ACT_REJECT,
} entry_action_t;

typedef struct entry_plan {
        entry_action_t action;
        char *parent;       /* cleaned parent path, "" for the layer root */
        char *leaf;         /* name to create in parent (whiteout target for ACT_WHITEOUT) */
        const char *reason; /* ACT_REJECT */
} entry_plan_t;
/* Plans one entry given its name and file type (S_IFREG, S_IFDIR, ...). Returns the action; the
 * plan's strings are allocated (entry_plan_done frees them). */
entry_action_t image_plan_entry(const char *name, mode_t type, entry_plan_t *ret);
void entry_plan_done(entry_plan_t *p);

/* ---- layer apply ---- */
typedef struct layer_limits {
        uint64_t max_entry;   /* bytes of one entry (--max-entry-size) */
        uint64_t max_total;   /* file bytes of one layer (--max-layer-size) */
        uint64_t max_entries; /* entries of one layer (--max-entries) */
        uint64_t min_free;    /* bytes the store's filesystem keeps free (--min-free-space) */
        int space_fd;         /* a folder on the store's filesystem; < 0: no free-space checks */
        /* When not NULL and set (read atomically) by another thread, the apply stops with
         * -ECANCELED: a parallel load whose other layer failed (store/load.c). */
        const int *cancel;
} layer_limits_t;

typedef struct layer_result {
        char blob_hex[DIGEST_HEX_LEN + 1]; /* digest of the stream as read */
        char diff_hex[DIGEST_HEX_LEN + 1]; /* digest of the uncompressed tar */
        uint64_t bytes;                    /* regular file bytes written */
        uint64_t entries;
        unsigned skipped_devices;
} layer_result_t;

/* Unpacks the (possibly compressed) tar read from blob_fd (blob_len bytes at blob_off with pread,
 * or with read to the end of the file when blob_len < 0) into the directory root_fd, in overlay
 * form, computing the blob digest and the diff_id in the same pass. what names the layer in
 * errors ("ARCHIVE: layer X"). Never writes outside root_fd. Thread-safe: several layers may be
 * applied at once (each into its own root_fd). */
int image_layer_apply(int blob_fd, int64_t blob_off, int64_t blob_len, compression_t comp,
                      int root_fd, const char *what, const layer_limits_t *lim,
                      layer_result_t *res, husk_error_t *err);
/* True when lim->cancel is set. */
bool layer_canceled(const layer_limits_t *lim);
/* Fails (ENOSPC, naming --min-free-space) unless the store's filesystem has need bytes free on
 * top of lim->min_free, and 1% of its inodes free. what starts the message. */
int layer_check_space(const layer_limits_t *lim, uint64_t need, const char *what,
                      husk_error_t *err);
/* "1.5 GiB": bytes in binary units for messages. */
void image_format_size(uint64_t bytes, char buf[32]);

/* ---- sources: an OCI layout / docker-save folder, or an archive staged into a folder ---- */
typedef enum source_kind { SOURCE_OCI = 1, SOURCE_DOCKER, SOURCE_ROOTFS } source_kind_t;
typedef struct image_source {
        char *desc;         /* the path given, for messages */
        source_kind_t kind;
        int dirfd;          /* folder (or staging folder) */
        int file_fd;        /* SOURCE_ROOTFS: the tarball */
        bool staged;
        char **names;       /* staged: cleaned archive names; staging file i is "f<i>" */
        int *alias;         /* staged: index of the file each name refers to */
        int64_t *off, *len; /* staged: where file i is in archive_fd (off < 0: not in place) */
        int64_t *size;      /* staged: file i's size in its tar header, -1 unknown */
        char **mem;         /* staged: small files of a compressed archive, kept in memory */
        bool *copied;       /* staged: file i was copied into "f<i>" by image_source_stage */
        size_t mem_total;
        int archive_fd;     /* staged: the archive, read in place or again for image_source_stage */
        size_t n_names;
        const layer_limits_t *lim; /* staged copies: max_total bounds one file, free space */
} image_source_t;
/* Opens path. An archive is read once; nothing is written to staging_fd (an empty folder the
 * caller owns and removes) until image_source_stage asks for the files the images need. lim
 * bounds the archive's entry count and every staged copy; it must outlive src. */
int image_source_open(const char *path, int staging_fd, const layer_limits_t *lim,
                      image_source_t *src, husk_error_t *err);
void image_source_close(image_source_t *src);
/* Makes the files paths[0..n) of a compressed archive readable by image_source_open_file,
 * copying them into the staging folder in one pass over the archive; sizes[i] >= 0 is the
 * size the manifest gives (a copy may not exceed it), and no copy may exceed lim->max_total.
 * Nothing to do for a folder or an uncompressed archive. Not thread-safe. */
int image_source_stage(image_source_t *src, char *const *paths, const int64_t *sizes, size_t n,
                       husk_error_t *err);
/* Removes the staged copy of rel, if any (its layer is unpacked). */
void image_source_release(const image_source_t *src, const char *rel);
/* The size of a file of the source (-1 when not known before reading it). */
int image_source_file_size(const image_source_t *src, const char *rel, int64_t *ret,
                           husk_error_t *err);
/* Opens a file of the source: read *ret_len bytes of *ret_fd from *ret_off with pread, or, when
 * *ret_len < 0, the whole file from its start. (Files of an uncompressed archive are read in
 * place, without a staging copy.) */
int image_source_open_file(const image_source_t *src, const char *rel, int *ret_fd,
                           int64_t *ret_off, int64_t *ret_len, husk_error_t *err);
/* The most an index, manifest or config may hold. */
#define IMAGE_JSON_MAX (8 * 1024 * 1024)
/* Reads a small JSON file (<= IMAGE_JSON_MAX) of the source; when hex is not NULL, checks its digest. */
int image_source_read(const image_source_t *src, const char *rel, const char *hex, char **ret,
                      size_t *ret_len, husk_error_t *err);

/* ---- manifests ---- */
typedef struct layer_ref {
        char *path;      /* in the source */
        char *blob_hex;  /* expected blob digest, NULL when unknown (docker-save layer.tar) */
        int64_t size;    /* expected size, -1 when unknown */
        compression_t comp;
} layer_ref_t;

typedef struct image_plan {
        char *config_path;  /* NULL for a rootfs tarball (config synthesised) */
        char *config_hex;   /* expected config digest, NULL when unknown */
        int64_t config_size; /* expected config size, -1 when unknown */
        layer_ref_t *layers;
        size_t n_layers;
        char **names;
} image_plan_t;
/* Frees the contents of n plans (not the array). */
void image_plan_free(image_plan_t *v, size_t n);

/* The platform string of this host, e.g. "linux/amd64". */
const char *image_host_platform(void);
/* Lists the images to load from a source, choosing manifests for platform. */
int image_source_plan(const image_source_t *src, const char *platform, image_plan_t **ret,
                      size_t *ret_n, husk_error_t *err);

/* Parsed image config. diff_ids are hex. */
typedef struct image_config {
        husk_image_config_t run;
        char **diff_ids;
        size_t n_diff_ids;
        char *os, *arch;
} image_config_t;
int image_config_parse(const char *json, const char *what, image_config_t *ret, husk_error_t *err);
void image_config_done(image_config_t *c);
void husk_image_config_done(husk_image_config_t *c);

#endif
