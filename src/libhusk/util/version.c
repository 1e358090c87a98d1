/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"
#include "util/util.h"

#include <archive.h>
#include <seccomp.h>
#include <yajl/yajl_version.h>

const char *husk_version(void)
{
        static char buf[512];
        if (!buf[0]) {
                const struct scmp_version *sv = seccomp_version();
                snprintf(buf, sizeof(buf),
                         "husk version %s\nspec: %s\nlibseccomp: %u.%u.%u\nlibarchive: %s\nyajl: %d\n",
                         PACKAGE_VERSION, HUSK_OCI_VERSION, sv ? sv->major : 0, sv ? sv->minor : 0,
                         sv ? sv->micro : 0, archive_version_details(), yajl_version());
        }
        return buf;
}
