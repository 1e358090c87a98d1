/* SPDX-License-Identifier: Apache-2.0 */
/* <seccomp.h> (libseccomp) declares its own seccomp_load(), which clashes with husk's
 * seccomp_load() from seccomp/seccomp.h. husk never calls libseccomp's loader (it exports BPF and
 * loads with seccomp(2)), so libseccomp's declaration is renamed away here. Include this instead
 * of <seccomp.h>. */
#ifndef HUSK_SECCOMP_SCMP_H
#define HUSK_SECCOMP_SCMP_H

#define seccomp_load libseccomp_seccomp_load_unused
#include <seccomp.h>
#undef seccomp_load

#endif
