using System;
using System.Collections.Generic;
using System.Text;

namespace WgTroubleshoot.Keys
{
    /// <summary>
    /// Finds text that is or may be key material, so that no message can echo it: tokens that decode as a
    /// 32-byte key (base64, URL-safe base64, with or without padding, or hex), and any long run of key
    /// alphabet characters (a key glued to a key name, a truncated key).
    /// </summary>
    internal static class KeyText
    {
        /// <summary>Runs of key alphabet characters at least this long are never shown (a key is 43-64 of them).</summary>
        internal const int HiddenRunLength = 40;

        /// <summary>Any run of at least this many characters that also occurs inside a known secret is hidden.</summary>
        internal const int SecretFragmentLength = 10;

        internal const string Hidden = "(key-like text hidden)";

        private static bool IsKeyChar(char c)
            => c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' || c == '-' || c == '_';

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
            {
                char c = t[i];
                if (!(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/')) return false;
            }
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
