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

        /// <summary>
        /// Raw text to a string that loses nothing: valid UTF-8 is decoded, and every byte that is not part of
        /// valid UTF-8 is written \xNN (hooks, names and DNS entries are shown as the bytes bash will get).
        /// </summary>
        internal static string ToDisplayExact(string raw)
        {
            if (raw == null) return null;
            bool ascii = true;
            foreach (var c in raw) if (c >= 0x80) { ascii = false; break; }
            if (ascii) return raw;
            var bytes = new byte[raw.Length];
            for (int i = 0; i < raw.Length; i++) bytes[i] = (byte)raw[i];
            var sb = new StringBuilder(raw.Length);
            int pos = 0;
            while (pos < bytes.Length)
            {
                int n = Utf8SequenceLength(bytes, pos);
                if (n > 0) { sb.Append(StrictUtf8.GetString(bytes, pos, n)); pos += n; }
                else { sb.Append("\\x").Append(bytes[pos].ToString("x2", System.Globalization.CultureInfo.InvariantCulture)); pos++; }
            }
            return sb.ToString();
        }

        /// <summary>True when the raw text is not valid UTF-8.</summary>
        internal static bool IsInvalidUtf8(string raw)
        {
            if (raw == null) return false;
            var bytes = new byte[raw.Length];
            for (int i = 0; i < raw.Length; i++) bytes[i] = (byte)raw[i];
            int pos = 0;
            while (pos < bytes.Length)
            {
                int n = Utf8SequenceLength(bytes, pos);
                if (n == 0) return true;
                pos += n;
            }
            return false;
        }

        private static readonly UTF8Encoding StrictUtf8 = new UTF8Encoding(false, true);

        /// <summary>The length of the valid UTF-8 sequence at <paramref name="pos"/>, or 0 when the byte there starts none.</summary>
        private static int Utf8SequenceLength(byte[] b, int pos)
        {
            byte c = b[pos];
            if (c < 0x80) return 1;
            int n; int min;
            if (c >= 0xC2 && c <= 0xDF) { n = 2; min = 0x80; }
            else if (c >= 0xE0 && c <= 0xEF) { n = 3; min = 0x800; }
            else if (c >= 0xF0 && c <= 0xF4) { n = 4; min = 0x10000; }
            else return 0;
            if (pos + n > b.Length) return 0;
            int cp = c & (0xFF >> (n + 1));
            for (int i = 1; i < n; i++)
            {
                if ((b[pos + i] & 0xC0) != 0x80) return 0;
                cp = (cp << 6) | (b[pos + i] & 0x3F);
            }
            if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
            return n;
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
            var text = Keys.KeyRedactor.Scrub(ToDisplayExact(raw));
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
