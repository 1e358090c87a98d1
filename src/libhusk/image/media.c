/* SPDX-License-Identifier: Apache-2.0 */
/* OCI and Docker media types: what a descriptor points at and how a layer is compressed. */
#include "image/image.h"

#include <string.h>

static const struct {
        const char *type;
        media_kind_t kind;
        compression_t comp;
} media_types[] = {
        { "application/vnd.oci.image.index.v1+json", MEDIA_INDEX, COMP_NONE },
        { "application/vnd.docker.distribution.manifest.list.v2+json", MEDIA_INDEX, COMP_NONE },
        { "application/vnd.oci.image.manifest.v1+json", MEDIA_MANIFEST, COMP_NONE },
        { "application/vnd.docker.distribution.manifest.v2+json", MEDIA_MANIFEST, COMP_NONE },
        { "application/vnd.oci.image.config.v1+json", MEDIA_CONFIG, COMP_NONE },
        { "application/vnd.docker.container.image.v1+json", MEDIA_CONFIG, COMP_NONE },
        { "application/vnd.oci.image.layer.v1.tar", MEDIA_LAYER, COMP_NONE },
        { "application/vnd.oci.image.layer.v1.tar+gzip", MEDIA_LAYER, COMP_GZIP },
        { "application/vnd.oci.image.layer.v1.tar+zstd", MEDIA_LAYER, COMP_ZSTD },
        { "application/vnd.oci.image.layer.nondistributable.v1.tar", MEDIA_LAYER, COMP_NONE },
        { "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", MEDIA_LAYER, COMP_GZIP },
        { "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", MEDIA_LAYER, COMP_ZSTD },
        { "application/vnd.docker.image.rootfs.diff.tar", MEDIA_LAYER, COMP_NONE },
        { "application/vnd.docker.image.rootfs.diff.tar.gzip", MEDIA_LAYER, COMP_GZIP },
        { "application/vnd.docker.image.rootfs.diff.tar.zstd", MEDIA_LAYER, COMP_ZSTD },
        { "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", MEDIA_LAYER, COMP_GZIP },
};

media_kind_t media_type_parse(const char *mt, compression_t *ret_comp)
{
        if (ret_comp)
                *ret_comp = COMP_NONE;
        if (!mt)
                return MEDIA_UNKNOWN;
        for (size_t i = 0; i < ARRAY_SIZE(media_types); i++) {
                if (strcmp(mt, media_types[i].type) == 0) {
                        if (ret_comp)
                                *ret_comp = media_types[i].comp;
                        return media_types[i].kind;
                }
        }
        return MEDIA_UNKNOWN;
}

const char *compression_name(compression_t c)
{
        switch (c) {
        case COMP_NONE:
                return "none";
        case COMP_GZIP:
                return "gzip";
        case COMP_ZSTD:
                return "zstd";
        case COMP_AUTO:
                return "auto";
        }
        return "?";
}
