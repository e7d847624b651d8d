using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;

namespace WgTroubleshoot.PathFaults
{
    /// <summary>One flow of `conntrack -L`: the original and the reply tuple, and the flags.</summary>
    public sealed class ConntrackEntry
    {
        public string Protocol { get; set; }
        public int? TimeoutSeconds { get; set; }
        public string OrigSrc { get; set; }
        public string OrigDst { get; set; }
        public int? OrigSport { get; set; }
        public int? OrigDport { get; set; }
        public string ReplySrc { get; set; }
        public string ReplyDst { get; set; }
        public int? ReplySport { get; set; }
        public int? ReplyDport { get; set; }
        public bool Unreplied { get; set; }
        public bool Assured { get; set; }
        /// <summary>The line as conntrack printed it (the evidence).</summary>
        public string Text { get; set; }

        /// <summary>The source address the packets of this flow leave with after NAT (where replies are sent to).</summary>
        public string TranslatedSource => ReplyDst;
        /// <summary>True when the flow's source is rewritten (SNAT or masquerade): replies go to another address than the sender's.</summary>
        public bool SourceNatted => ReplyDst != null && OrigSrc != null && !string.Equals(ReplyDst, OrigSrc, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Parses `conntrack -L` (conntrack-tools 1.4) output; lines it does not understand are skipped.</summary>
    public static class ConntrackParser
    {
        private static readonly Regex Kv = new Regex(@"^(src|dst|sport|dport)=(\S+)$", RegexOptions.Compiled);

        public static List<ConntrackEntry> Parse(string text)
        {
            var list = new List<ConntrackEntry>();
            foreach (var raw in (text ?? "").Replace("\r", "").Split('\n'))
            {
                var line = raw.Trim();
                if (line.Length == 0 || line.StartsWith("conntrack v", StringComparison.Ordinal)) continue;
                var e = ParseLine(line);
                if (e != null) list.Add(e);
            }
            return list;
        }

        public static ConntrackEntry ParseLine(string line)
        {
            var t = line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
            // ipv4 2 udp 17 118 src=... (with -o extended) or: udp 17 118 src=...
            int i = 0;
            if (t.Length > 2 && (t[0] == "ipv4" || t[0] == "ipv6")) i = 2;
            if (t.Length < i + 3) return null;
            var e = new ConntrackEntry { Protocol = t[i], Text = line };
            if (!int.TryParse(t[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out _)) return null;
            i += 2;
            if (i < t.Length && int.TryParse(t[i], NumberStyles.None, CultureInfo.InvariantCulture, out var timeout)) { e.TimeoutSeconds = timeout; i++; }
            int tuple = 0; // 0: original, 1: reply
            bool seenSrc = false;
            for (; i < t.Length; i++)
            {
                var tok = t[i];
                if (tok == "[UNREPLIED]") { e.Unreplied = true; continue; }
                if (tok == "[ASSURED]") { e.Assured = true; continue; }
                var m = Kv.Match(tok);
                if (!m.Success) continue;
                var key = m.Groups[1].Value; var value = m.Groups[2].Value;
                if (key == "src")
                {
                    if (seenSrc) tuple++;
                    seenSrc = true;
                }
                if (tuple > 1) break;
                int? port = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var pv) ? pv : (int?)null;
                switch (key)
                {
                    case "src": if (tuple == 0) e.OrigSrc = value; else e.ReplySrc = value; break;
                    case "dst": if (tuple == 0) e.OrigDst = value; else e.ReplyDst = value; break;
                    case "sport": if (tuple == 0) e.OrigSport = port; else e.ReplySport = port; break;
                    case "dport": if (tuple == 0) e.OrigDport = port; else e.ReplyDport = port; break;
                }
            }
            return e.OrigSrc != null ? e : null;
        }
    }

    /// <summary>
    /// Kernel SNMP counters: /proc/net/netstat and /proc/net/snmp (pairs of a header line and a value line per
    /// group, e.g. "TcpExt: ... IPReversePathFilter ..." then "TcpExt: ... 12 ...") and `nstat -az` output
    /// ("TcpExtIPReversePathFilter 12 0.0"). Names are group + field, as nstat prints them.
    /// </summary>
    public static class KernelCounters
    {
        public const string ReversePathFilter = "TcpExtIPReversePathFilter";
        public const string InAddrErrors = "IpInAddrErrors";

        public static Dictionary<string, long> ParseProcNetstat(string text)
        {
            var d = new Dictionary<string, long>(StringComparer.Ordinal);
            var lines = (text ?? "").Replace("\r", "").Split('\n').Where(l => l.Trim().Length > 0).ToList();
            for (int i = 0; i + 1 < lines.Count; i++)
            {
                var h = lines[i].Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
                var v = lines[i + 1].Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
                if (h.Length < 2 || v.Length != h.Length || h[0] != v[0] || !h[0].EndsWith(":", StringComparison.Ordinal)) continue;
                if (!long.TryParse(v[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)) continue;
                var group = h[0].TrimEnd(':');
                for (int k = 1; k < h.Length; k++)
                    if (long.TryParse(v[k], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)) d[group + h[k]] = n;
                i++;
            }
            return d;
        }

        public static Dictionary<string, long> ParseNstat(string text)
        {
            var d = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var raw in (text ?? "").Replace("\r", "").Split('\n'))
            {
                var t = raw.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                if (t.Length < 2 || t[0].StartsWith("#", StringComparison.Ordinal)) continue;
                if (long.TryParse(t[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n)) d[t[0]] = n;
            }
            return d;
        }

        /// <summary>How much a counter grew between two samples; null when either sample lacks it.</summary>
        public static long? Delta(IDictionary<string, long> before, IDictionary<string, long> after, string name)
        {
            if (before == null || after == null || !before.TryGetValue(name, out var a) || !after.TryGetValue(name, out var b)) return null;
            return b - a;
        }
    }

    /// <summary>The answer of `ip route get`: the device and gateway, or the error it printed.</summary>
    public sealed class RouteAnswer
    {
        public string Query { get; set; }
        public bool Found { get; set; }
        public string Device { get; set; }
        public string Via { get; set; }
        public string Source { get; set; }
        public string Type { get; set; }
        public string Error { get; set; }
        /// <summary>The first line of the answer (the evidence).</summary>
        public string Text { get; set; }

        public static RouteAnswer Parse(string query, int exitCode, string stdout, string stderr)
        {
            var r = new RouteAnswer { Query = query };
            var first = (stdout ?? "").Replace("\r", "").Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0);
            if (exitCode != 0 || first == null)
            {
                r.Error = ((stderr ?? "").Trim().Length > 0 ? stderr.Trim() : "no route") ;
                r.Text = r.Error;
                return r;
            }
            r.Text = first;
            var t = first.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
            string[] types = { "local", "broadcast", "unreachable", "prohibit", "blackhole", "multicast", "throw" };
            if (t.Length > 0 && types.Contains(t[0])) r.Type = t[0];
            for (int i = 0; i + 1 < t.Length; i++)
            {
                switch (t[i])
                {
                    case "dev": r.Device = r.Device ?? t[i + 1]; break;
                    case "via": r.Via = r.Via ?? t[i + 1]; break;
                    case "src": r.Source = r.Source ?? t[i + 1]; break;
                }
            }
            r.Found = r.Type != "unreachable" && r.Type != "prohibit" && r.Type != "blackhole" && r.Device != null;
            if (!r.Found) r.Error = r.Type ?? "no device in the answer";
            return r;
        }
    }

    /// <summary>
    /// Reverse-path filter settings (net.ipv4.conf.{all,IF}.rp_filter): the kernel applies the larger of the two
    /// (0 off, 1 strict, 2 loose).
    /// </summary>
    public sealed class RpFilterSetting
    {
        public string Interface { get; set; }
        public int? All { get; set; }
        public int? Device { get; set; }
        public int? Effective => All.HasValue || Device.HasValue ? Math.Max(All ?? 0, Device ?? 0) : (int?)null;
        public bool Strict => Effective == 1;

        public static int? ParseValue(string text)
            => int.TryParse((text ?? "").Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= 0 && v <= 2 ? v : (int?)null;

        public override string ToString()
            => $"net.ipv4.conf.all.rp_filter = {All?.ToString(CultureInfo.InvariantCulture) ?? "?"}, net.ipv4.conf.{Interface}.rp_filter = {Device?.ToString(CultureInfo.InvariantCulture) ?? "?"} (in effect: {Describe(Effective)})";

        public static string Describe(int? v) => v == 0 ? "0, off" : v == 1 ? "1, strict" : v == 2 ? "2, loose" : "unknown";
    }
}
