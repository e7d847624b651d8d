using System;
using System.Collections.Generic;
using System.IO;

namespace WgTroubleshoot.Config
{
    /// <summary>Names one section of a configuration: the [Interface] section, or the [Peer] with a given public key.</summary>
    internal sealed class WgConfigSectionRef
    {
        private WgConfigSectionRef(string peerPublicKey) { PeerPublicKey = peerPublicKey; }

        /// <summary>The [Interface] section.</summary>
        internal static readonly WgConfigSectionRef Interface = new WgConfigSectionRef(null);

        /// <summary>The [Peer] section whose PublicKey is <paramref name="publicKey"/>.</summary>
        internal static WgConfigSectionRef Peer(string publicKey)
            => new WgConfigSectionRef(publicKey ?? throw new ArgumentNullException(nameof(publicKey)));

        /// <summary>Null for the [Interface] section.</summary>
        internal string PeerPublicKey { get; }

        public override string ToString() => PeerPublicKey == null ? "[Interface]" : "[Peer] " + Keys.WgKey.Short(PeerPublicKey);
    }

    /// <summary>
    /// A wg-quick configuration file as a list of lines that serializes back to exactly the bytes it was
    /// read from (BOM, line endings, comments, unknown keys, trailing whitespace and a missing final newline
    /// included). Edits touch only the lines they are about. Parsing into a <see cref="WgConfig"/> is
    /// <see cref="WgConfigParser"/>'s job; this class never rejects any input.
    /// </summary>
    internal sealed class WgConfigDocument
    {
        private static readonly byte[] Bom = { 0xEF, 0xBB, 0xBF };

        private WgConfigDocument(string path, bool hasBom, List<WgConfigLine> lines)
        {
            Path = path;
            HasByteOrderMark = hasBom;
            Lines = lines;
        }

        /// <summary>The file the document came from (for messages); may be null.</summary>
        internal string Path { get; }

        /// <summary>The file starts with a UTF-8 byte order mark (kept on output; wg rejects it).</summary>
        internal bool HasByteOrderMark { get; }

        /// <summary>The lines, in order. Line N of the file is Lines[N - 1].</summary>
        internal List<WgConfigLine> Lines { get; }

        /// <summary>Splits bytes into lines at '\n' (a '\r' just before it belongs to the line ending).</summary>
        internal static WgConfigDocument Parse(byte[] bytes, string path = null)
        {
            if (bytes == null) throw new ArgumentNullException(nameof(bytes));
            bool bom = bytes.Length >= 3 && bytes[0] == Bom[0] && bytes[1] == Bom[1] && bytes[2] == Bom[2];
            var lines = new List<WgConfigLine>();
            int start = bom ? 3 : 0;
            while (start < bytes.Length)
            {
                int nl = Array.IndexOf(bytes, (byte)'\n', start);
                if (nl < 0)
                {
                    lines.Add(new WgConfigLine(RawText.FromBytes(bytes, start, bytes.Length - start), string.Empty));
                    break;
                }
                bool crlf = nl > start && bytes[nl - 1] == '\r';
                int end = crlf ? nl - 1 : nl;
                lines.Add(new WgConfigLine(RawText.FromBytes(bytes, start, end - start), crlf ? "\r\n" : "\n"));
                start = nl + 1;
            }
            return new WgConfigDocument(path, bom, lines);
        }

        /// <summary>The document's bytes: identical to the input unless it was edited.</summary>
        internal byte[] ToBytes()
        {
            using (var ms = new MemoryStream())
            {
                if (HasByteOrderMark) ms.Write(Bom, 0, Bom.Length);
                foreach (var line in Lines)
                {
                    RawText.AppendBytes(ms, line.Content);
                    RawText.AppendBytes(ms, line.Ending);
                }
                return ms.ToArray();
            }
        }

        /// <summary>The file's own line ending: CRLF when most lines end so, else LF.</summary>
        internal string NewLine
        {
            get
            {
                int crlf = 0, lf = 0;
                foreach (var l in Lines)
                {
                    if (l.Ending == "\r\n") crlf++;
                    else if (l.Ending == "\n") lf++;
                }
                return crlf > lf ? "\r\n" : "\n";
            }
        }

        /// <summary>
        /// Sets a key in one section: the first line with that key gets the new value (its formatting and
        /// trailing comment kept) and any further lines with the same key in that section are removed; when
        /// the section has no such key, the key is added. Returns true when the bytes changed.
        /// </summary>
        internal bool SetValue(WgConfigSectionRef section, string key, string value)
        {
            var raw = CheckValue(value);
            CheckKey(key);
            var before = ToBytes();
            var (first, end) = FindSection(section, mustExist: true);
            int found = -1;
            for (int i = first + 1; i < end; i++)
            {
                if (!Lines[i].HasKey(key)) continue;
                if (found < 0)
                {
                    found = i;
                    Lines[i] = Lines[i].WithValue(raw);
                }
                else
                {
                    RemoveLineAt(i);
                    i--;
                    end--;
                }
            }
            if (found < 0) InsertKeyLine(first, end, key, raw);
            return !BytesEqual(before, ToBytes());
        }

        /// <summary>Adds a "Key = value" line after the last key line of the section (for keys that append, like AllowedIPs).</summary>
        internal void AddValue(WgConfigSectionRef section, string key, string value)
        {
            var raw = CheckValue(value);
            CheckKey(key);
            var (first, end) = FindSection(section, mustExist: true);
            InsertKeyLine(first, end, key, raw);
        }

        /// <summary>Removes every line of the section with that key; returns how many were removed.</summary>
        internal int RemoveKey(WgConfigSectionRef section, string key)
        {
            CheckKey(key);
            var (first, end) = FindSection(section, mustExist: false);
            if (first < 0) return 0;
            int removed = 0;
            for (int i = end - 1; i > first; i--)
            {
                if (!Lines[i].HasKey(key)) continue;
                RemoveLineAt(i);
                removed++;
            }
            return removed;
        }

        /// <summary>True when the document has the section (for a peer: a [Peer] whose PublicKey matches).</summary>
        internal bool HasSection(WgConfigSectionRef section) => FindSection(section, mustExist: false).first >= 0;

        /// <summary>
        /// The index of the section's header line and the index just past its last line; (-1, -1) when
        /// absent. With <paramref name="mustExist"/>, a missing [Interface] header is added at the top and
        /// a missing peer is a WgPeerNotFound error.
        /// </summary>
        private (int first, int end) FindSection(WgConfigSectionRef section, bool mustExist)
        {
            for (int i = 0; i < Lines.Count; i++)
            {
                if (!Lines[i].IsSectionHeader) continue;
                int end = i + 1;
                while (end < Lines.Count && !Lines[end].IsSectionHeader) end++;
                if (section.PeerPublicKey == null ? Lines[i].IsSection("Interface") : Lines[i].IsSection("Peer") && PeerKey(i, end) == section.PeerPublicKey)
                    return (i, end);
            }
            if (section.PeerPublicKey != null)
            {
                if (!mustExist) return (-1, -1);
                throw new WgException(ErrorIds.PeerNotFound, System.Management.Automation.ErrorCategory.ObjectNotFound,
                    $"{Path ?? "The configuration"} has no [Peer] with the public key {section.PeerPublicKey}.", section.PeerPublicKey);
            }
            if (!mustExist) return (-1, -1);
            Lines.Insert(0, new WgConfigLine("[Interface]", Lines.Count == 0 ? string.Empty : NewLine));
            return (0, 1);
        }

        /// <summary>The PublicKey of the peer section [first, end) as wg reads it (the last one wins).</summary>
        private string PeerKey(int first, int end)
        {
            string key = null;
            for (int i = first + 1; i < end; i++)
                if (Lines[i].HasKey("PublicKey")) key = Lines[i].Value;
            return key;
        }

        private void InsertKeyLine(int first, int end, string key, string rawValue)
        {
            int after = first;
            for (int i = first + 1; i < end; i++)
                if (!Lines[i].IsEmpty) after = i;
            var newLine = NewLine;
            var previous = Lines[after];
            string ending = newLine;
            if (previous.Ending.Length == 0)
            {
                // The file had no final newline: keep it that way, the new line becomes the last one.
                previous.Ending = newLine;
                ending = string.Empty;
            }
            Lines.Insert(after + 1, new WgConfigLine(key + " = " + rawValue, ending));
        }

        private void RemoveLineAt(int index)
        {
            bool wasLastWithoutNewline = index == Lines.Count - 1 && Lines[index].Ending.Length == 0;
            Lines.RemoveAt(index);
            if (wasLastWithoutNewline && Lines.Count > 0) Lines[Lines.Count - 1].Ending = string.Empty;
        }

        private static void CheckKey(string key)
        {
            if (string.IsNullOrEmpty(key)) throw new ArgumentException("A key name is required.", nameof(key));
            foreach (var c in key)
                if (!(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'))
                    throw new ArgumentException($"'{key}' is not a configuration key name (letters and digits only).", nameof(key));
        }

        private static string CheckValue(string value)
        {
            if (value == null) throw new ArgumentNullException(nameof(value));
            // wg and wg-quick end every value at '#', even in PostUp; a newline would start a new line.
            if (value.IndexOfAny(new[] { '#', '\r', '\n' }) >= 0)
                throw new ArgumentException("A configuration value cannot contain '#' or a line break: wg and wg-quick would cut it there.", nameof(value));
            return RawText.FromDisplay(value.Trim());
        }

        internal static bool BytesEqual(byte[] a, byte[] b)
        {
            if (a.Length != b.Length) return false;
            for (int i = 0; i < a.Length; i++) if (a[i] != b[i]) return false;
            return true;
        }

        public override string ToString() => $"{Path ?? "(configuration)"}: {Lines.Count} lines";
    }
}
