-- HMAC-SHA256 for wrk (LuaJIT's `bit` library), so that every request is a distinct, correctly signed body.
--
-- A store's retry of the same order state is a duplicate (the bridge keys orders by shop, id and updated_at),
-- so a bench that sends one body with fresh webhook ids measures the duplicate path, not ingest. Every
-- request here carries its own `updated_at`; the body is BODY_PREFIX .. <timestamp> .. BODY_SUFFIX and the
-- HMAC state after the key block and the prefix's whole 64-byte blocks is computed once, so signing a
-- request hashes only its last block or two (about 10 µs in LuaJIT).
--
-- Expects globals set by bench/common.py before this file: BODY_PREFIX_PATH, BODY_SUFFIX, SECRET, TOPIC,
-- SHOP, and wrk's script arguments: <run number> (keeps timestamps and webhook ids unique across runs).

local bit = require("bit")
local band, bor, bxor, bnot = bit.band, bit.bor, bit.bxor, bit.bnot
local rshift, lshift, ror, tobit = bit.rshift, bit.lshift, bit.ror, bit.tobit
local byte, char, sub, rep, floor = string.byte, string.char, string.sub, string.rep, math.floor

local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}
local INITIAL = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 }
local W = {}

-- One 64-byte block of `s` starting after offset `off` into the state H (a table of 8 words).
local function compress(H, s, off)
  for i = 0, 15 do
    local a, b, c, d = byte(s, off + i * 4 + 1, off + i * 4 + 4)
    W[i] = bor(lshift(a, 24), lshift(b, 16), lshift(c, 8), d)
  end
  for i = 16, 63 do
    local w15, w2 = W[i - 15], W[i - 2]
    local s0 = bxor(ror(w15, 7), ror(w15, 18), rshift(w15, 3))
    local s1 = bxor(ror(w2, 17), ror(w2, 19), rshift(w2, 10))
    W[i] = tobit(W[i - 16] + s0 + W[i - 7] + s1)
  end
  local a, b, c, d, e, f, g, h = H[1], H[2], H[3], H[4], H[5], H[6], H[7], H[8]
  for i = 0, 63 do
    local S1 = bxor(ror(e, 6), ror(e, 11), ror(e, 25))
    local ch = bxor(band(e, f), band(bnot(e), g))
    local t1 = tobit(h + S1 + ch + K[i + 1] + W[i])
    local S0 = bxor(ror(a, 2), ror(a, 13), ror(a, 22))
    local maj = bxor(band(a, b), band(a, c), band(b, c))
    h, g, f, e, d, c, b, a = g, f, e, tobit(d + t1), c, b, a, tobit(t1 + tobit(S0 + maj))
  end
  H[1], H[2], H[3], H[4] = tobit(H[1] + a), tobit(H[2] + b), tobit(H[3] + c), tobit(H[4] + d)
  H[5], H[6], H[7], H[8] = tobit(H[5] + e), tobit(H[6] + f), tobit(H[7] + g), tobit(H[8] + h)
end

-- A hashing state: the 8 words, the bytes not yet in a whole block, and the length hashed so far.
local function absorb(state, data)
  local buffered = state.rest .. data
  local whole = #buffered - #buffered % 64
  for off = 0, whole - 64, 64 do
    compress(state.H, buffered, off)
  end
  state.rest = sub(buffered, whole + 1)
  state.length = state.length + #data
end

local function copy(state)
  local H = state.H
  return { H = { H[1], H[2], H[3], H[4], H[5], H[6], H[7], H[8] }, rest = state.rest, length = state.length }
end

local function word_bytes(w)
  return char(band(rshift(w, 24), 255), band(rshift(w, 16), 255), band(rshift(w, 8), 255), band(w, 255))
end

local function finish(state)
  local bits = state.length * 8
  local pad = 64 - (state.length + 9) % 64
  if pad == 64 then pad = 0 end
  absorb(state, "\128" .. rep("\0", pad) .. word_bytes(floor(bits / 4294967296)) .. word_bytes(bits % 4294967296))
  local H, out = state.H, {}
  for i = 1, 8 do out[i] = word_bytes(H[i]) end
  return table.concat(out)
end

local function new_state()
  return { H = { unpack(INITIAL) }, rest = "", length = 0 }
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = byte(s, i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local c1, c2 = floor(n / 262144) % 64, floor(n / 4096) % 64
    local c3, c4 = floor(n / 64) % 64, n % 64
    out[#out + 1] = sub(B64, c1 + 1, c1 + 1) .. sub(B64, c2 + 1, c2 + 1)
      .. (b and sub(B64, c3 + 1, c3 + 1) or "=") .. (c and sub(B64, c4 + 1, c4 + 1) or "=")
  end
  return table.concat(out)
end

-- The key blocks (RFC 2104); keys longer than a block are hashed first.
local function keyed(key, fill)
  if #key > 64 then
    local s = new_state()
    absorb(s, key)
    key = finish(s)
  end
  key = key .. rep("\0", 64 - #key)
  local out = {}
  for i = 1, 64 do out[i] = char(bxor(byte(key, i), fill)) end
  local s = new_state()
  absorb(s, table.concat(out))
  return s
end

local f = assert(io.open(BODY_PREFIX_PATH, "rb"))
local prefix = f:read("*a")
f:close()
local inner_base = keyed(SECRET, 0x36)
absorb(inner_base, prefix)
local outer_base = keyed(SECRET, 0x5c)

local function sign(variable)
  local inner = copy(inner_base)
  absorb(inner, variable)
  local outer = copy(outer_base)
  absorb(outer, finish(inner))
  return base64(finish(outer))
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Shopify-Topic"] = TOPIC
wrk.headers["X-Shopify-Shop-Domain"] = SHOP
wrk.headers["X-Shopify-API-Version"] = "2026-01"

local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_no", #threads)
end

local run = 0
local counter = 0
function init(args)
  run = tonumber(args[1]) or 0
end

function request()
  counter = counter + 1
  -- A distinct second per request: run (up to 99) x thread (up to 99) x 100,000 requests each.
  local second = 1767225600 + ((run * 100 + thread_no) * 100000 + counter)
  local variable = os.date("!%Y-%m-%dT%H:%M:%SZ", second) .. BODY_SUFFIX
  wrk.headers["X-Shopify-Webhook-Id"] = "bench-" .. run .. "-" .. thread_no .. "-" .. counter
  wrk.headers["X-Shopify-Hmac-Sha256"] = sign(variable)
  wrk.body = prefix .. variable
  return wrk.format()
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "non2xx": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
