using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using WgTroubleshoot.Config;

namespace WgTroubleshoot.Bundle
{
    /// <summary>
    /// Keeps secrets out of a support bundle: configuration text with the PrivateKey and PresharedKey values
    /// replaced on the lossless line model (every other byte kept), and a last scan of the finished text for
    /// every known secret in base64 and hex.
    /// </summary>
    internal static class Redaction
    {
        internal const string Marker = "(redacted)";

        /// <summary>The keys whose values are secrets (matched as wg does: case-insensitive, whitespace ignored).</summary>
        internal static readonly string[] SecretKeys = { "PrivateKey", "PresharedKey" };

        /// <summary>
        /// Replaces the value of every PrivateKey and PresharedKey line of the document (any case, any spacing,
        /// any section) with "(redacted)"; comments, line endings and all other lines stay as they were.
        /// Returns how many lines with a value were changed. The document is changed in place.
        /// </summary>
        internal static int RedactDocument(WgConfigDocument doc)
        {
            int n = 0;
            for (int i = 0; i < doc.Lines.Count; i++)
            {
                var line = doc.Lines[i];
                if (!SecretKeys.Any(line.HasKey)) continue;
                bool hadValue = !string.IsNullOrWhiteSpace(line.Value);
                doc.Lines[i] = line.WithValue(Marker);
                if (hadValue) n++;
            }
            return n;
        }

        /// <summary>The configuration text with its secrets redacted, decoded as UTF-8 for display.</summary>
        internal static string RedactedText(byte[] configBytes, string path = null)
        {
            var doc = WgConfigDocument.Parse(configBytes, path);
            RedactDocument(doc);
            return new UTF8Encoding(false, false).GetString(doc.ToBytes());
        }

        /// <summary>
        /// The secret values of a configuration: the parsed private and preshared keys when the file parses,
        /// and in any case the raw values of its PrivateKey and PresharedKey lines.
        /// </summary>
        internal static IEnumerable<string> SecretsOf(WgConfigDocument doc)
        {
            var found = new List<string>();
            foreach (var line in doc.Lines)
                if (SecretKeys.Any(line.HasKey) && !string.IsNullOrEmpty(line.Value)) found.Add(RawText.ToDisplay(line.Value));
            try
            {
                var config = WgConfigParser.Parse(doc);
                if (!string.IsNullOrEmpty(config.PrivateKeyValue)) found.Add(config.PrivateKeyValue);
                foreach (var p in config.Peers)
                    if (!string.IsNullOrEmpty(p.PresharedKeyValue)) found.Add(p.PresharedKeyValue);
            }
            catch (WgConfigParseException)
            {
                // the raw line values above are all there is
            }
            return found;
        }

        /// <summary>The key ids (<see cref="KeyId"/>) of every PublicKey line of the document, in any section.</summary>
        internal static IEnumerable<string> PublicKeysOf(WgConfigDocument doc)
        {
            foreach (var line in doc.Lines)
                if (line.HasKey("PublicKey") && !string.IsNullOrEmpty(line.Value))
                {
                    var id = KeyId(RawText.ToDisplay(line.Value));
                    if (id != null) yield return id;
                }
        }

        /// <summary>
        /// The forms a secret can show up in: as written, and for a key that decodes from base64, the
        /// lowercase hex of its bytes (the UAPI's form; the scan ignores case). Values shorter than 16
        /// characters are not worth scanning for (they would match ordinary text) and are left out.
        /// </summary>
        internal static IEnumerable<string> Forms(string secret)
        {
            if (string.IsNullOrWhiteSpace(secret)) yield break;
            secret = secret.Trim();
            if (secret.Length >= 16) yield return secret;
            byte[] bytes = null;
            try { bytes = Convert.FromBase64String(secret); }
            catch (FormatException) { }
            if (bytes != null && bytes.Length >= 16)
            {
                var hex = new StringBuilder(bytes.Length * 2);
                foreach (var b in bytes) hex.Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
                yield return hex.ToString();
            }
        }

        /// <summary>
        /// Replaces every occurrence of every form of every secret in <paramref name="text"/> (ignoring case)
        /// with "(redacted)"; <paramref name="count"/> is the number of replacements.
        /// </summary>
        internal static string Scrub(string text, IEnumerable<string> secrets, out int count)
        {
            count = 0;
            // longest first, so a form that contains another is replaced whole
            var forms = secrets.SelectMany(Forms).Distinct(StringComparer.OrdinalIgnoreCase).OrderByDescending(f => f.Length).ToList();
            foreach (var form in forms)
            {
                int at = text.IndexOf(form, StringComparison.OrdinalIgnoreCase);
                if (at < 0) continue;
                var sb = new StringBuilder(text.Length);
                int from = 0;
                while (at >= 0)
                {
                    sb.Append(text, from, at - from).Append(Marker);
                    count++;
                    from = at + form.Length;
                    at = text.IndexOf(form, from, StringComparison.OrdinalIgnoreCase);
                }
                sb.Append(text, from, text.Length - from);
                text = sb.ToString();
            }
            return text;
        }

        /// <summary>Characters of base64 (standard and URL-safe) runs.</summary>
        private static bool IsB64(char c)
            => (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '-' || c == '_';

        private static bool IsHex(char c) => (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');

        /// <summary>
        /// The 32 bytes a token spells as a WireGuard key, as lowercase hex, or null: base64 of 43 characters
        /// with or without its '=' (standard or URL-safe alphabet), 64 hex digits, or 0x and 64 hex digits.
        /// </summary>
        internal static string KeyBytesHex(string run)
        {
            if (run.Length == 64 && run.All(IsHex)) return run.ToLowerInvariant();
            if (run.Length == 66 && (run.StartsWith("0x", StringComparison.Ordinal) || run.StartsWith("0X", StringComparison.Ordinal)) && run.Substring(2).All(IsHex))
                return run.Substring(2).ToLowerInvariant();
            if (run.Length == 43)
            {
                try
                {
                    var bytes = Convert.FromBase64String(run.Replace('-', '+').Replace('_', '/') + "=");
                    if (bytes.Length != 32) return null;
                    var sb = new StringBuilder(64);
                    foreach (var b in bytes) sb.Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
                    return sb.ToString();
                }
                catch (FormatException)
                {
                    return null;
                }
            }
            return null;
        }

        /// <summary>The key bytes (lowercase hex) of a key given in base64 or hex; null when it is not one.</summary>
        internal static string KeyId(string key) => string.IsNullOrWhiteSpace(key) ? null : KeyBytesHex(key.Trim().TrimEnd('='));

        /// <summary>
        /// Replaces every token of <paramref name="text"/> that decodes as a 32-byte key (base64 with or without
        /// padding, URL-safe base64, 64 hex digits) with "(redacted)", unless its bytes are one of
        /// <paramref name="publicKeyIds"/> (lowercase hex, see <see cref="KeyId"/>). A token is a maximal run of
        /// base64 characters, so keys inside comments, after "PrivateKey:" or in brackets are found wherever
        /// they are; a backslash escape (JSON's \n, \u0022) ends a run. <paramref name="count"/> is the
        /// number of tokens replaced.
        /// </summary>
        internal static string RedactKeyTokens(string text, ICollection<string> publicKeyIds, out int count)
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
                var id = pad <= 1 ? KeyBytesHex(run) : null;
                if (id == null || (publicKeyIds != null && publicKeyIds.Contains(id))) continue;
                if (sb == null) sb = new StringBuilder(text.Length);
                sb.Append(text, copied, start - copied).Append(Marker);
                copied = run.Length == 43 && pad == 1 ? end + 1 : end;
                count++;
            }
            if (sb == null) return text;
            sb.Append(text, copied, n - copied);
            return sb.ToString();
        }

        /// <summary><see cref="RedactKeyTokens(string, ICollection{string}, out int)"/> without public keys to keep and without the count.</summary>
        public static string RedactKeyTokens(string text, ICollection<string> publicKeyIds = null) => RedactKeyTokens(text, publicKeyIds, out _);
    }
}
