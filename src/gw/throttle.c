/* SPDX-License-Identifier: Apache-2.0 */
/* Token buckets for the gateway's throttling (API Gateway's rate and burst). Pure: the caller
 * passes the time, so unit tests move a clock instead of sleeping. */
#include "gw.h"

bool gw_bucket_take(gw_bucket *b, const gw_throttle *t, uint64_t now_ms)
{
        /* Unset (rate or burst < 0): no bound. */
        if (t->rate < 0 || t->burst < 0)
                return true;
        double burst = (double)t->burst;
        if (b->last_ms == 0 && b->tokens == 0) {
                /* A new bucket starts full. */
                b->tokens = burst;
                b->last_ms = now_ms ? now_ms : 1;
        } else if (now_ms > b->last_ms) {
                b->tokens += (double)(now_ms - b->last_ms) * t->rate / 1000.0;
                b->last_ms = now_ms;
        }
        /* A clock that stepped back adds nothing; a burst lowered since caps what is kept. */
        if (b->tokens > burst)
                b->tokens = burst;
        if (b->tokens >= 1.0) {
                b->tokens -= 1.0;
                return true;
        }
        return false;
}
