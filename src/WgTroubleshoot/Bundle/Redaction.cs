using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using WgTroubleshoot.Config;
using WgTroubleshoot.Keys;

namespace WgTroubleshoot.Bundle
{
    /// <summary>
    /// Keeps secrets out of a support bundle: configuration text with the PrivateKey and PresharedKey values
    /// replaced on the lossless line model (every other byte kept), and a last scan of the finished text for
    /// every known secret in base64 and hex; every other key-like token is left to the shared
    /// <see cref="KeyRedactor"/>.
    /// </summary>
    internal static class Redaction
    {
        internal const string Marker = KeyRedactor.Marker;

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

        /// <summary>The key ids (<see cref="KeyRedactor.KeyId"/>) of every PublicKey line of the document, in any section.</summary>
        internal static IEnumerable<string> PublicKeysOf(WgConfigDocument doc)
        {
            foreach (var line in doc.Lines)
                if (line.HasKey("PublicKey") && !string.IsNullOrEmpty(line.Value))
                {
                    var id = KeyRedactor.KeyId(RawText.ToDisplay(line.Value));
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
    }
}
