using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Text;

namespace WgTroubleshoot.Keys
{
    /// <summary>
    /// The module's one place for text that is or may be key material, with its one key decoder
    /// (<see cref="TryDecodeAny"/>: a 32-byte key in base64 with or without its '=', URL-safe base64, or hex).
    /// Two ways out:
    /// <list type="bullet">
    /// <item>Redaction of key tokens on their way to output (configuration and hook text, support bundles,
    /// native command lines, <see cref="RedactKeyTokens(string, ICollection{string}, out int, bool)"/> and
    /// <see cref="Redact"/>): every token that decodes as a key is a secret and becomes "(redacted)", unless its
    /// bytes are a public key known from the caller (the public keys of the file at hand) or from
    /// <see cref="RememberPublicKey"/>, which every reader of public keys (the configuration parser, the
    /// live-state model) feeds.</item>
    /// <item>Masking of messages (<see cref="Scrub"/>), so that no message can echo a key: any run of key
    /// alphabet characters long enough to be a key (a key glued to a key name, a truncated key) and any
    /// fragment of a known secret becomes "(key-like text hidden)".</item>
    /// </list>
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

        /// <summary>The key alphabet of <see cref="Runs"/>: base64 of both alphabets and its padding.</summary>
        private static bool IsKeyChar(char c) => IsB64(c) || c == '=';

        private static bool IsHex(char c) => (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');

        /// <summary>True when the token is a 32-byte key in base64, URL-safe base64 (padding optional) or hex.</summary>
        internal static bool DecodesAsKey(string token) => TryDecodeAny(token, out _);

        /// <summary>The 32 key bytes of a token in any of the key encodings; false when it is none of them.</summary>
        internal static bool TryDecodeAny(string token, out byte[] key)
        {
            key = null;
            if (token == null) return false;
            if (token.Length == 64)
            {
                var b64 = WgKey.HexToBase64(token);
                if (b64 != null) { key = Convert.FromBase64String(b64); return true; }
            }
            if (token.Length != 43 && token.Length != 44) return false;
            var t = token.Replace('-', '+').Replace('_', '/');
            if (t.Length == 43) t += "=";
            if (t[43] != '=') return false;
            for (int i = 0; i < 43; i++)
                if (!IsB64(t[i])) return false;   // '-' and '_' are '+' and '/' by now
            try
            {
                var bytes = Convert.FromBase64String(t);
                if (bytes.Length != 32) return false;
                key = bytes;
                return true;
            }
            catch (FormatException)
            {
                return false;
            }
        }

        /// <summary>
        /// The 32 bytes a token spells as a WireGuard key, as lowercase hex, or null: base64 of 43 characters
        /// with or without its '=' (standard or URL-safe alphabet), 64 hex digits, or 0x and 64 hex digits.
        /// Decoded by <see cref="TryDecodeAny"/>, the module's one key decoder.
        /// </summary>
        private static string KeyBytesHex(string run)
        {
            if (run == null) return null;
            if (run.Length == 66 && (run.StartsWith("0x", StringComparison.Ordinal) || run.StartsWith("0X", StringComparison.Ordinal)) && run.Substring(2).AllHex())
                run = run.Substring(2);
            if (run.Length != 64 && run.Length != 43 && run.Length != 44) return null;
            if (!TryDecodeAny(run, out var bytes)) return null;
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

        // ---- message masking: runs of the key alphabet ----

        /// <summary>Runs of key alphabet characters at least this long are never shown (a key is 43-64 of them).</summary>
        internal const int HiddenRunLength = 40;

        /// <summary>Any run of at least this many characters that also occurs inside a known secret is hidden.</summary>
        internal const int SecretFragmentLength = 10;

        internal const string Hidden = "(key-like text hidden)";

        /// <summary>The maximal runs of key alphabet characters in the text (start, length).</summary>
        internal static IEnumerable<(int Start, int Length)> Runs(string text)
        {
            int i = 0;
            while (i < text.Length)
            {
                while (i < text.Length && !IsKeyChar(text[i])) i++;
                int start = i;
                while (i < text.Length && IsKeyChar(text[i])) i++;
                if (i > start) yield return (start, i - start);
            }
        }

        /// <summary>
        /// The text with every run of key characters hidden that is long enough to be a key (unless it is one of
        /// <paramref name="allowed"/>, public keys that may be shown) or that is a fragment of one of
        /// <paramref name="secrets"/>.
        /// </summary>
        internal static string Scrub(string text, ICollection<string> allowed = null, IEnumerable<string> secrets = null, IEnumerable<string> allowedContext = null)
        {
            if (string.IsNullOrEmpty(text)) return text;
            StringBuilder sb = null;
            int copied = 0;
            foreach (var (start, length) in Runs(text))
            {
                if (length < SecretFragmentLength) continue;
                var run = text.Substring(start, length);
                bool hide;
                if (length >= HiddenRunLength) hide = !(allowed != null && allowed.Contains(run)) && !InContext(run, allowedContext);
                else hide = IsSecretFragment(run, secrets);
                if (!hide) continue;
                sb = sb ?? new StringBuilder(text.Length);
                sb.Append(text, copied, start - copied).Append(Hidden);
                copied = start + length;
            }
            if (sb == null) return text;
            sb.Append(text, copied, text.Length - copied);
            return sb.ToString();
        }

        // Text known not to be a key (the file's own path) may hold long runs of the alphabet ('/' belongs to it).
        private static bool InContext(string run, IEnumerable<string> context)
        {
            if (context == null || DecodesAsKey(run)) return false;
            foreach (var c in context)
                if (c != null && c.IndexOf(run, StringComparison.Ordinal) >= 0) return true;
            return false;
        }

        private static bool IsSecretFragment(string run, IEnumerable<string> secrets)
        {
            if (secrets == null) return false;
            foreach (var s in secrets)
                if (s != null && s.Length >= run.Length && s.IndexOf(run, StringComparison.Ordinal) >= 0) return true;
            return false;
        }

        /// <summary>True when the text holds a run of key characters long enough to be a key.</summary>
        internal static bool HasKeyLikeRun(string text)
        {
            if (string.IsNullOrEmpty(text)) return false;
            foreach (var (_, length) in Runs(text)) if (length >= HiddenRunLength) return true;
            return false;
        }
    }
}
