using System;
using WgTroubleshoot.Loading;

namespace WgTroubleshoot.Keys
{
    /// <summary>WireGuard keys: 32 bytes, base64 in files and `wg` output, hex in the userspace API.</summary>
    public static class WgKey
    {
        /// <summary>True when the text is a base64 encoding of exactly 32 bytes (44 characters ending in '=').</summary>
        public static bool IsValid(string base64) => TryDecode(base64, out _);

        public static bool TryDecode(string base64, out byte[] key)
        {
            key = null;
            if (base64 == null || base64.Length != 44 || base64[43] != '=') return false;
            try
            {
                var bytes = Convert.FromBase64String(base64);
                if (bytes.Length != 32) return false;
                // The last significant character must not carry stray low bits (wg rejects those too).
                if (Convert.ToBase64String(bytes) != base64) return false;
                key = bytes;
                return true;
            }
            catch (FormatException)
            {
                return false;
            }
        }

        /// <summary>Public key (base64) for a private key (base64), X25519 as `wg pubkey` does (BouncyCastle, through the engine). Null for an invalid key.</summary>
        public static string PublicFromPrivate(string privateBase64)
        {
            if (!TryDecode(privateBase64, out var priv)) return null;
            try
            {
                return Convert.ToBase64String(DependencyLoader.Engine.X25519PublicKey(priv));
            }
            finally
            {
                Array.Clear(priv, 0, priv.Length);
            }
        }

        public static string HexToBase64(string hex)
        {
            if (hex == null || hex.Length != 64) return null;
            var bytes = new byte[32];
            for (int i = 0; i < 32; i++)
            {
                int hi = HexVal(hex[2 * i]), lo = HexVal(hex[2 * i + 1]);
                if (hi < 0 || lo < 0) return null;
                bytes[i] = (byte)((hi << 4) | lo);
            }
            return Convert.ToBase64String(bytes);
        }

        public static string Base64ToHex(string base64)
        {
            if (!TryDecode(base64, out var b)) return null;
            var c = new char[64];
            const string digits = "0123456789abcdef";
            for (int i = 0; i < 32; i++) { c[2 * i] = digits[b[i] >> 4]; c[2 * i + 1] = digits[b[i] & 15]; }
            return new string(c);
        }

        public static bool IsAllZeroHex(string hex)
        {
            if (string.IsNullOrEmpty(hex)) return true;
            foreach (var ch in hex) if (ch != '0') return false;
            return true;
        }

        private static int HexVal(char c)
        {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
        }

        /// <summary>A short, safe label for a public key in messages: "abcd…wxyz=".</summary>
        public static string Short(string publicKey)
            => string.IsNullOrEmpty(publicKey) || publicKey.Length < 12 ? publicKey : publicKey.Substring(0, 8) + "…";
    }
}
