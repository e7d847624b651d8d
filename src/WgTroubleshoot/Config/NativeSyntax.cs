using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;

namespace WgTroubleshoot.Config
{
    /// <summary>
    /// The number and address readers of the C library and iproute2 that wg and wg-quick hand values to,
    /// reimplemented so that the module reads a value exactly as the tool that uses it:
    /// strtoul/strtol (C, any base), getaddrinfo's port reading (glibc), inet_aton (glibc's legacy IPv4:
    /// octal, hex, fewer than four parts), and iproute2's address, prefix length, MTU and table readers.
    /// Every method takes raw text (one char per byte) and never throws.
    /// </summary>
    internal static class NativeSyntax
    {
        /// <summary>
        /// C strtoul: optional leading whitespace, an optional sign, then digits in <paramref name="numberBase"/>
        /// (0: 0x = hex, a leading 0 = octal, else decimal). Returns the number of characters consumed (0 when
        /// no digits), the value as C sees it (a '-' negates modulo 2^64) and whether it overflowed (then ULONG_MAX).
        /// </summary>
        internal static int StrToUL(string s, int numberBase, out ulong value, out bool overflow)
        {
            value = 0;
            overflow = false;
            int i = 0;
            while (i < s.Length && RawText.IsSpace(s[i])) i++;
            bool negative = false;
            if (i < s.Length && (s[i] == '+' || s[i] == '-')) { negative = s[i] == '-'; i++; }
            int b = numberBase;
            if ((b == 0 || b == 16) && i + 1 < s.Length && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X') && i + 2 < s.Length && Digit(s[i + 2]) >= 0 && Digit(s[i + 2]) < 16)
            {
                i += 2;
                b = 16;
            }
            else if (b == 0)
            {
                b = i < s.Length && s[i] == '0' ? 8 : 10;
            }
            int start = i;
            ulong v = 0;
            while (i < s.Length)
            {
                int d = Digit(s[i]);
                if (d < 0 || d >= b) break;
                if (!overflow)
                {
                    if (v > (ulong.MaxValue - (ulong)d) / (ulong)b) overflow = true;
                    else v = v * (ulong)b + (ulong)d;
                }
                i++;
            }
            if (i == start)
            {
                // "0x" without hex digits: C reads the "0" and stops at the x.
                if (numberBase == 0 || numberBase == 16)
                {
                    int j = 0;
                    while (j < s.Length && RawText.IsSpace(s[j])) j++;
                    if (j < s.Length && (s[j] == '+' || s[j] == '-')) j++;
                    if (j < s.Length && s[j] == '0') { value = 0; return j + 1; }
                }
                return 0;
            }
            if (overflow) v = ulong.MaxValue;
            else if (negative) v = unchecked(0UL - v);
            value = v;
            return i;
        }

        /// <summary>The whole text is one strtoul number (C's "*end == '\0'" check), value in <paramref name="value"/>.</summary>
        internal static bool WholeStrToUL(string s, int numberBase, out ulong value, out bool overflow)
        {
            int n = StrToUL(s, numberBase, out value, out overflow);
            return n > 0 && n == s.Length;
        }

        private static int Digit(char c)
            => c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'z' ? c - 'a' + 10 : c >= 'A' && c <= 'Z' ? c - 'A' + 10 : -1;

        /// <summary>
        /// glibc getaddrinfo's reading of a service (a port): a whole strtoul number in base 10 whose low 32 bits
        /// are a non-negative int becomes that number's low 16 bits (70000 → 4464, 65536 → 0, +51820 → 51820);
        /// anything else is a service name looked up in the services database for UDP (case-sensitive: https is
        /// 443, HTTPS is unknown). Returns false when getaddrinfo fails ("Servname not supported").
        /// </summary>
        internal static bool TryGetAddrInfoPort(string service, Func<string, int?> serviceLookup, out int port, out PortSpelling spelling)
        {
            port = 0;
            spelling = PortSpelling.Plain;
            if (string.IsNullOrEmpty(service)) return false;
            if (WholeStrToUL(service, 10, out var num, out _))
            {
                int asInt = unchecked((int)(uint)(num & 0xFFFFFFFF));
                if (asInt >= 0)
                {
                    port = asInt & 0xFFFF;
                    bool plainDecimal = true;
                    foreach (var c in service) if (c < '0' || c > '9') plainDecimal = false;
                    if (!plainDecimal || asInt > 65535) spelling = asInt > 65535 ? PortSpelling.Wrapped : PortSpelling.Signed;
                    return true;
                }
            }
            var named = serviceLookup?.Invoke(service);
            if (named == null) return false;
            port = named.Value;
            spelling = PortSpelling.ServiceName;
            return true;
        }

        /// <summary>
        /// glibc inet_aton as getaddrinfo uses it (inet_aton_exact): one to four parts separated by dots, each
        /// decimal, 0-prefixed octal or 0x hex; the last part fills the remaining bytes (1.2.3 is 1.2.0.3,
        /// 0x7f.1 is 127.0.0.1, 010.0.0.1 is 8.0.0.1). Nothing may follow.
        /// </summary>
        internal static bool TryInetAton(string s, out IPAddress address)
        {
            address = null;
            var parts = new List<ulong>();
            int i = 0;
            if (s.Length == 0) return false;
            while (true)
            {
                if (i >= s.Length || s[i] < '0' || s[i] > '9') return false;
                ulong val = 0;
                int b = 10;
                bool digit = false;
                if (s[i] == '0')
                {
                    i++;
                    if (i < s.Length && (s[i] == 'x' || s[i] == 'X')) { b = 16; i++; }
                    else { b = 8; digit = true; }
                }
                while (i < s.Length)
                {
                    int d = Digit(s[i]);
                    if (d < 0 || d >= 16) break;
                    if (d >= 10 && b != 16) break;
                    if (b == 8 && d >= 8) return false;
                    val = val * (ulong)b + (ulong)d;
                    if (val > 0xFFFFFFFFUL) return false;
                    digit = true;
                    i++;
                }
                if (!digit) return false;
                if (i < s.Length && s[i] == '.')
                {
                    if (parts.Count > 2 || val > 0xFF) return false;
                    parts.Add(val);
                    i++;
                    continue;
                }
                if (i != s.Length) return false;
                ulong[] max = { 0xFFFFFFFFUL, 0xFFFFFFUL, 0xFFFFUL, 0xFFUL };
                if (val > max[parts.Count]) return false;
                ulong addr = val;
                for (int p = 0; p < parts.Count; p++) addr |= parts[p] << (24 - 8 * p);
                address = new IPAddress(new[] { (byte)(addr >> 24), (byte)(addr >> 16), (byte)(addr >> 8), (byte)addr });
                return true;
            }
        }

        /// <summary>True when the text is the strict dotted quad that inet_pton(AF_INET) reads the same way.</summary>
        internal static bool IsCanonicalIPv4(string s) => WgConfigParser.TryParseIPv4(s, out var ip) && ip.ToString() == s;

        /// <summary>
        /// iproute2's get_addr_ipv4 (ip address add): one to four parts, each a strtoul number in any base (sign
        /// and all) of at most 255, missing parts zero (10.1 is 10.1.0.0, 010.0.0.2 is 8.0.0.2).
        /// </summary>
        internal static bool TryIprouteIPv4(string s, out IPAddress address)
        {
            address = null;
            var bytes = new byte[4];
            int pos = 0;
            for (int i = 0; i < 4; i++)
            {
                var rest = s.Substring(pos);
                int n = StrToUL(rest, 0, out var v, out _);
                if (n == 0) return false;
                if (v > 255) return false;
                bytes[i] = (byte)v;
                pos += n;
                if (pos == s.Length) { address = new IPAddress(bytes); return true; }
                if (i == 3 || s[pos] != '.') return false;
                pos++;
            }
            return false;
        }

        /// <summary>iproute2's get_unsigned: a whole strtoul number (any base) that fits 32 bits.</summary>
        internal static bool TryIprouteUnsigned(string s, out uint value)
        {
            value = 0;
            if (!WholeStrToUL(s, 0, out var v, out var overflow) || overflow || v > uint.MaxValue) return false;
            value = (uint)v;
            return true;
        }

        /// <summary>iproute2's get_integer: a whole strtol number (any base) that fits an int.</summary>
        internal static bool TryIprouteInteger(string s, out long value)
        {
            value = 0;
            int i = 0;
            while (i < s.Length && RawText.IsSpace(s[i])) i++;
            bool negative = i < s.Length && s[i] == '-';
            if (!WholeStrToUL(s, 0, out var v, out var overflow) || overflow) return false;
            long signed;
            if (negative)
            {
                ulong magnitude = unchecked(0UL - v);
                if (magnitude > 2147483648UL) return false;
                signed = -(long)magnitude;
            }
            else
            {
                if (v > int.MaxValue) return false;
                signed = (long)v;
            }
            value = signed;
            return true;
        }

        /// <summary>
        /// `ip address add` as wg-quick runs it for one Address word: IPv4 by iproute2's reader, IPv6 by inet_pton;
        /// the prefix length by get_unsigned (any base) or, for IPv4, a dotted netmask. Null when ip rejects it.
        /// </summary>
        internal static IpPrefix ParseIprouteAddress(string word)
        {
            int slash = word.IndexOf('/');
            var addrText = slash < 0 ? word : word.Substring(0, slash);
            IPAddress ip;
            int max;
            if (addrText.IndexOf(':') >= 0)
            {
                if (!WgConfigParser.TryParseIPv6(addrText, out ip)) return null;
                max = 128;
            }
            else
            {
                if (!TryIprouteIPv4(addrText, out ip)) return null;
                max = 32;
            }
            int len = max;
            if (slash >= 0)
            {
                var lenText = word.Substring(slash + 1);
                if (TryIprouteUnsigned(lenText, out var u))
                {
                    if (u > (uint)max) return null;
                    len = (int)u;
                }
                else if (max == 32 && TryIprouteIPv4(lenText, out var mask) && MaskBits(mask) is int bits)
                {
                    len = bits;
                }
                else return null;
            }
            return IpPrefix.FromAddress(ip, len);
        }

        private static int? MaskBits(IPAddress mask)
        {
            var b = mask.GetAddressBytes();
            uint m = (uint)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]);
            int bits = 0;
            while (bits < 32 && (m & (0x80000000u >> bits)) != 0) bits++;
            uint expect = bits == 0 ? 0 : 0xFFFFFFFFu << (32 - bits);
            return m == expect ? bits : (int?)null;
        }

        /// <summary>The services database (/etc/services): UDP port of a service name or alias; null when unknown.</summary>
        internal static int? ServicePort(string name) => Services.Value.TryGetValue(name, out var p) ? p : (int?)null;

        private static readonly Lazy<Dictionary<string, int>> Services = new Lazy<Dictionary<string, int>>(() => ReadServices("/etc/services"));

        internal static Dictionary<string, int> ReadServices(string path)
        {
            var map = new Dictionary<string, int>(StringComparer.Ordinal);
            try
            {
                if (!File.Exists(path)) return map;
                foreach (var raw in File.ReadAllLines(path))
                {
                    var line = raw;
                    int hash = line.IndexOf('#');
                    if (hash >= 0) line = line.Substring(0, hash);
                    var words = line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                    if (words.Length < 2) continue;
                    var pp = words[1].Split('/');
                    if (pp.Length != 2 || pp[1] != "udp" || !int.TryParse(pp[0], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535) continue;
                    for (int i = 0; i < words.Length; i++)
                        if (i != 1 && !map.ContainsKey(words[i])) map[words[i]] = port;
                }
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { /* no services: names are unknown */ }
            return map;
        }

        /// <summary>iproute2's routing table names (rt_tables and rt_tables.d/*.conf); the built-in names always.</summary>
        internal static bool TableNameExists(string name) => TableNames.Value.Contains(name);

        private static readonly Lazy<HashSet<string>> TableNames = new Lazy<HashSet<string>>(ReadTableNames);

        private static HashSet<string> ReadTableNames()
        {
            var names = new HashSet<string>(StringComparer.Ordinal) { "local", "main", "default", "unspec" };
            var files = new List<string>();
            foreach (var dir in new[] { "/etc/iproute2", "/usr/share/iproute2", "/usr/lib/iproute2" })
            {
                files.Add(Path.Combine(dir, "rt_tables"));
                try
                {
                    var d = Path.Combine(dir, "rt_tables.d");
                    if (Directory.Exists(d)) files.AddRange(Directory.GetFiles(d, "*.conf"));
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { }
            }
            foreach (var f in files)
            {
                try
                {
                    if (!File.Exists(f)) continue;
                    foreach (var raw in File.ReadAllLines(f))
                    {
                        var words = raw.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                        if (words.Length >= 2 && !words[0].StartsWith("#", StringComparison.Ordinal)) names.Add(words[1]);
                    }
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { }
            }
            return names;
        }
    }

    /// <summary>How a port was written, when it is not plain decimal 0-65535.</summary>
    internal enum PortSpelling
    {
        /// <summary>Plain decimal digits, 0-65535 (leading zeros included).</summary>
        Plain,
        /// <summary>A sign or other strtoul spelling ("+51820").</summary>
        Signed,
        /// <summary>Above 65535: getaddrinfo keeps the low 16 bits (70000 is 4464, 65536 is 0).</summary>
        Wrapped,
        /// <summary>A service name from the services database (https is 443).</summary>
        ServiceName,
    }
}
