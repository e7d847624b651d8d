namespace WgTroubleshoot.Config
{
    /// <summary>
    /// One line of a configuration file exactly as stored: its content (raw text, one char per byte) and its
    /// line ending ("\n", "\r\n", or "" for a last line without a newline). The lexing properties follow
    /// wg and wg-quick: everything from the first '#' is a comment, and wg ignores all whitespace.
    /// </summary>
    internal sealed class WgConfigLine
    {
        internal WgConfigLine(string content, string ending)
        {
            Content = content;
            Ending = ending;
            // bash's `read` (wg-quick) drops NUL bytes; wg then reads the line without them.
            var text = content.IndexOf('\0') < 0 ? content : content.Replace("\0", string.Empty);
            HasNul = !ReferenceEquals(text, content);
            int hash = text.IndexOf('#');
            Stripped = hash < 0 ? text : text.Substring(0, hash);
            int fullEq = text.IndexOf('=');
            UnstrippedValue = RawText.Trim(fullEq < 0 ? text : text.Substring(fullEq + 1));
            Compact = RawText.RemoveSpaces(Stripped);
            int eq = Stripped.IndexOf('=');
            if (eq >= 0)
            {
                QuickKey = RawText.Trim(Stripped.Substring(0, eq));
                QuickValue = RawText.Trim(Stripped.Substring(eq + 1));
            }
            else
            {
                QuickKey = RawText.Trim(Stripped);
                QuickValue = QuickKey;
            }
            int ceq = Compact.IndexOf('=');
            if (ceq >= 0)
            {
                Key = Compact.Substring(0, ceq);
                Value = Compact.Substring(ceq + 1);
            }
        }

        /// <summary>The text of the line without its line ending.</summary>
        internal string Content { get; }

        /// <summary>"\n", "\r\n", or "" (the last line of a file without a final newline).</summary>
        internal string Ending { get; set; }

        /// <summary>The line holds NUL bytes (wg-quick's `read` drops them).</summary>
        internal bool HasNul { get; }

        /// <summary>
        /// Newer wg-quick's hook value: the trimmed text after the first '=' of the whole line, '#' and all
        /// (the whole line when it has no '='), as wireguard-tools 1.0.20260223 and later pass it to hooks.
        /// </summary>
        internal string UnstrippedValue { get; }

        /// <summary>The content (without NUL bytes) before the first '#'.</summary>
        internal string Stripped { get; }

        /// <summary>The content as wg reads it: comment cut off, all whitespace removed.</summary>
        internal string Compact { get; }

        /// <summary>wg's view: the name before the first '=' (null when the line has no '=').</summary>
        internal string Key { get; }

        /// <summary>wg's view: the text after the first '=' (null when the line has no '=').</summary>
        internal string Value { get; }

        /// <summary>wg-quick's view: the trimmed text before the first '=' (the whole line when there is none).</summary>
        internal string QuickKey { get; }

        /// <summary>wg-quick's view: the trimmed text after the first '=' (the whole line when there is none).</summary>
        internal string QuickValue { get; }

        /// <summary>Nothing but whitespace and comments: wg skips the line.</summary>
        internal bool IsEmpty => Compact.Length == 0;

        /// <summary>A comment line: the first non-blank character is '#'.</summary>
        internal bool IsComment => RawText.Trim(Content).StartsWith("#", System.StringComparison.Ordinal);

        /// <summary>A section header such as [Interface] or [Peer] (by wg's reading).</summary>
        internal bool IsSectionHeader => Compact.StartsWith("[", System.StringComparison.Ordinal);

        internal bool IsSection(string name) => RawText.EqualsIgnoreCase(Compact, "[" + name + "]");

        internal bool HasKey(string key) => Key != null && !IsSectionHeader && RawText.EqualsIgnoreCase(Key, key);

        /// <summary>
        /// This line with the value replaced, keeping the key as written, the spacing around '=', and any
        /// trailing whitespace or comment. Only valid for a line with a '=' before any '#'.
        /// </summary>
        internal WgConfigLine WithValue(string rawValue)
        {
            int eq = Stripped.IndexOf('=');
            int start = eq + 1;
            while (start < Stripped.Length && RawText.IsSpace(Stripped[start])) start++;
            int end = Stripped.Length;
            while (end > start && RawText.IsSpace(Stripped[end - 1])) end--;
            var suffix = Content.Substring(end);
            if (suffix.StartsWith("#", System.StringComparison.Ordinal)) suffix = " " + suffix;
            return new WgConfigLine(Content.Substring(0, start) + rawValue + suffix, Ending);
        }
    }
}
