using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Text;

namespace WgTroubleshoot.Keys
{
    /// <summary>
    /// The one redactor for text that may carry key material on its way to output (configuration and hook
    /// text, support bundles, native command lines): every token that decodes as a 32-byte key in base64
    /// (with or without its '='), URL-safe base64 or hex (optionally 0x) is a secret and becomes "(redacted)",
    /// unless its bytes are a public key known from a configuration or the live state. Public keys are known
    /// either from the caller (the public keys of the file at hand) or from <see cref="RememberPublicKey"/>,
    /// which every reader of public keys (the configuration parser, the live-state model) feeds.
    /// </summary>
    internal static class KeyRedactor
    {
        internal const string Marker = "(redacted)";

        /// <summary>Bound of the process-wide set of known public keys (a hub has thousands; never unbounded).</summary>
        internal const int MaxKnownPublicKeys = 200000;

        private static readonly ConcurrentDictionary<string, byte> KnownPublicKeyIds = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);

        /// <summary>
        /// Records a public key (any key encoding) as one that may be shown. Public keys are not secret, so the
        /// set is shared by every runspace of the process; it stops growing at <see cref="MaxKnownPublicKeys"/>.
        /// </summary>
        internal static void RememberPublicKey(string key)
        {
            var id = KeyId(key);
            if (id == null || KnownPublicKeyIds.Count >= MaxKnownPublicKeys) return;
            KnownPublicKeyIds.TryAdd(id, 0);
        }

        /// <summary>True when the key (any encoding) was recorded by <see cref="RememberPublicKey"/>.</summary>
        internal static bool IsKnownPublicKey(string key)
        {
            var id = KeyId(key);
            return id != null && KnownPublicKeyIds.ContainsKey(id);
        }

        /// <summary>Characters of base64 (standard and URL-safe) runs.</summary>
        private static bool IsB64(char c)
            => (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '-' || c == '_';

        private static bool IsHex(char c) => (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');

        /// <summary>
        /// The 32 bytes a token spells as a WireGuard key, as lowercase hex, or null: base64 of 43 characters
        /// with or without its '=' (standard or URL-safe alphabet), 64 hex digits, or 0x and 64 hex digits.
        /// Decoded by <see cref="KeyText.TryDecodeAny"/>, the module's one key decoder.
        /// </summary>
        internal static string KeyBytesHex(string run)
        {
            if (run == null) return null;
            if (run.Length == 66 && (run.StartsWith("0x", StringComparison.Ordinal) || run.StartsWith("0X", StringComparison.Ordinal)) && run.Substring(2).AllHex())
                run = run.Substring(2);
            if (run.Length != 64 && run.Length != 43 && run.Length != 44) return null;
            if (!KeyText.TryDecodeAny(run, out var bytes)) return null;
            var sb = new StringBuilder(64);
            foreach (var b in bytes) sb.Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            return sb.ToString();
        }

        private static bool AllHex(this string s)
        {
            foreach (var c in s) if (!IsHex(c)) return false;
            return true;
        }

        /// <summary>The key bytes (lowercase hex) of a key given in base64 or hex; null when it is not one.</summary>
        internal static string KeyId(string key) => string.IsNullOrWhiteSpace(key) ? null : KeyBytesHex(key.Trim().TrimEnd('='));

        /// <summary>The key ids (<see cref="KeyId"/>) of the given public keys, for <see cref="RedactKeyTokens(string, ICollection{string}, out int)"/>.</summary>
        internal static HashSet<string> KeyIds(IEnumerable<string> publicKeys)
        {
            var ids = new HashSet<string>(StringComparer.Ordinal);
            if (publicKeys != null)
                foreach (var k in publicKeys) { var id = KeyId(k); if (id != null) ids.Add(id); }
            return ids;
        }

        /// <summary>
        /// Replaces every token of <paramref name="text"/> that decodes as a 32-byte key (base64 with or without
        /// padding, URL-safe base64, 64 hex digits) with "(redacted)", unless its bytes are one of
        /// <paramref name="publicKeyIds"/> (lowercase hex, see <see cref="KeyId"/>) or, with
        /// <paramref name="knownPublicKeys"/>, a public key recorded by <see cref="RememberPublicKey"/>. A token
        /// is a maximal run of base64 characters, so keys inside comments, after "PrivateKey:", in brackets or
        /// in a shell command are found wherever they are; a backslash escape (JSON's \n, \u0022) ends a run.
        /// <paramref name="count"/> is the number of tokens replaced.
        /// </summary>
        internal static string RedactKeyTokens(string text, ICollection<string> publicKeyIds, out int count, bool knownPublicKeys = false)
        {
            count = 0;
            if (string.IsNullOrEmpty(text)) return text;
            StringBuilder sb = null;
            int copied = 0, i = 0, n = text.Length;
            while (i < n)
            {
                char c = text[i];
                if (c == '\\')
                {
                    // an escape: \x, or \uXXXX
                    i += i + 1 < n && text[i + 1] == 'u' ? 6 : 2;
                    continue;
                }
                if (!IsB64(c)) { i++; continue; }
                int start = i;
                while (i < n && IsB64(text[i])) i++;
                int end = i;
                int pad = 0;
                while (i < n && text[i] == '=' && pad < 2) { i++; pad++; }
                var run = text.Substring(start, end - start);
                var id = pad <= 1 && (run.Length == 43 || run.Length == 64 || run.Length == 66) ? KeyBytesHex(run) : null;
                if (id == null) continue;
                if (publicKeyIds != null && publicKeyIds.Contains(id)) continue;
                if (knownPublicKeys && KnownPublicKeyIds.ContainsKey(id)) continue;
                if (sb == null) sb = new StringBuilder(text.Length);
                sb.Append(text, copied, start - copied).Append(Marker);
                copied = run.Length == 43 && pad == 1 ? end + 1 : end;
                count++;
            }
            if (sb == null) return text;
            sb.Append(text, copied, n - copied);
            return sb.ToString();
        }

        /// <summary><see cref="RedactKeyTokens(string, ICollection{string}, out int, bool)"/> without the count.</summary>
        internal static string RedactKeyTokens(string text, ICollection<string> publicKeyIds = null) => RedactKeyTokens(text, publicKeyIds, out _);

        /// <summary>
        /// Text for output where the caller knows no public keys of its own (a native command line, a message):
        /// every key token redacted except the public keys recorded by <see cref="RememberPublicKey"/>.
        /// </summary>
        internal static string Redact(string text) => RedactKeyTokens(text, null, out _, knownPublicKeys: true);
    }
}
