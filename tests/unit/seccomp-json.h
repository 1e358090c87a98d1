/* SPDX-License-Identifier: Apache-2.0 */
/* Test/tool-only: an OCI linux.seccomp JSON object -> config_seccomp, so the seccomp tests and
 * tools/seccomp-bench do not depend on the config module. Returns NULL on a malformed profile. */
#ifndef HUSK_TEST_SECCOMP_JSON_H
#define HUSK_TEST_SECCOMP_JSON_H
#include "config/oci_config.h"
config_seccomp *test_seccomp_from_json(const char *json);
void test_seccomp_free(config_seccomp *s);
#endif
