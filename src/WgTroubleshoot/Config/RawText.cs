using System.Text;

namespace WgTroubleshoot.Config
{
    /// <summary>
    /// Configuration text is held as "raw" strings with exactly one char per byte (U+0000-U+00FF), so any
    /// byte sequence, valid UTF-8 or not, survives a read-modify-write unchanged. Keys and values that
    /// matter are ASCII; text shown to people (peer names, hooks, host names) is decoded as UTF-8.
    /// </summary>
    internal static class RawText
    {
        private static readonly UTF8Encoding Utf8 = new UTF8Encoding(false, false);

        internal static string FromBytes(byte[] bytes, int offset, int count)
        {
            var chars = new char[count];
            for (int i = 0; i < count; i++) chars[i] = (char)bytes[offset + i];
            return new string(chars);
        }

        internal static void AppendBytes(System.IO.Stream output, string raw)
        {
            foreach (var c in raw) output.WriteByte((byte)c);
        }

        /// <summary>Raw text to a normal string (UTF-8 decode; invalid sequences become U+FFFD).</summary>
        internal static string ToDisplay(string raw)
        {
            if (raw == null) return null;
            var bytes = new byte[raw.Length];
            for (int i = 0; i < raw.Length; i++) bytes[i] = (byte)raw[i];
            return Utf8.GetString(bytes);
        }

        /// <summary>A normal string to raw text (UTF-8 encode).</summary>
        internal static string FromDisplay(string text)
        {
            var bytes = Utf8.GetBytes(text ?? string.Empty);
            return FromBytes(bytes, 0, bytes.Length);
        }

        /// <summary>The whitespace of C isspace() in the C locale, which both wg and bash use.</summary>
        internal static bool IsSpace(char c) => c == ' ' || (c >= '\t' && c <= '\r');

        internal static string Trim(string s)
        {
            int start = 0, end = s.Length;
            while (start < end && IsSpace(s[start])) start++;
            while (end > start && IsSpace(s[end - 1])) end--;
            return s.Substring(start, end - start);
        }

        /// <summary>Removes every whitespace character, as wg does to each line before reading it.</summary>
        internal static string RemoveSpaces(string s)
        {
            var sb = new StringBuilder(s.Length);
            foreach (var c in s) if (!IsSpace(c)) sb.Append(c);
            return sb.ToString();
        }

        /// <summary>ASCII-only case-insensitive equality (strcasecmp and bash nocasematch in the C locale).</summary>
        internal static bool EqualsIgnoreCase(string a, string b)
        {
            if (a == null || b == null || a.Length != b.Length) return a == b;
            for (int i = 0; i < a.Length; i++)
                if (Lower(a[i]) != Lower(b[i])) return false;
            return true;
        }

        private static char Lower(char c) => c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;

        /// <summary>Printable, short form of raw text for an error message (never used for values that may be secret).</summary>
        internal static string ForMessage(string raw, int max = 48)
        {
            var text = ToDisplay(raw);
            var sb = new StringBuilder();
            foreach (var c in text)
            {
                if (sb.Length >= max) { sb.Append('…'); break; }
                sb.Append(char.IsControl(c) ? '?' : c);
            }
            return sb.ToString();
        }
    }
}
