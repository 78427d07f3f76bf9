#ifndef TRUNKGATE_CSHA256_H
#define TRUNKGATE_CSHA256_H

#include <stddef.h>
#include <stdint.h>

/// SHA-256 (FIPS 180-4) block compression on caller-held state, so that a short hash (an HMAC
/// over a nonce, a Digest response) needs no heap-held context. The padding and the rest of the
/// hash are in Swift (SIPDigest's SHA256State).

/// Non-zero when the CPU has the SHA extensions (and SSSE3/SSE4.1) used by
/// tg_sha256_blocks_hw.
int tg_sha256_hw_available(void);

/// Compresses `blocks` 64-byte blocks of `data` into `state` (a, b, c, d, e, f, g, h) with the
/// x86 SHA instructions. Call only when tg_sha256_hw_available() says so.
void tg_sha256_blocks_hw(uint32_t state[8], const uint8_t *data, size_t blocks);

/// The same in portable C, for CPUs without the SHA extensions.
void tg_sha256_blocks_portable(uint32_t state[8], const uint8_t *data, size_t blocks);

#endif
