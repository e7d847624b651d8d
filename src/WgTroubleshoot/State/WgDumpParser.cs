using System;
using System.Collections.Generic;
using System.Globalization;

namespace WgTroubleshoot.State
{
    /// <summary>One interface's live state with its peers, before link details are added.</summary>
    public sealed class WgDevice
    {
        public WgInterface Interface { get; set; }
        public List<WgPeer> Peers { get; } = new List<WgPeer>();
    }

    /// <summary>
    /// Parses `wg show all dump` (and `wg show IF dump`). The private key and the preshared key are read
    /// past and dropped on the spot: only whether a preshared key is set survives.
    /// </summary>
    public static class WgDumpParser
    {
        private static readonly DateTime Epoch = new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc);

        /// <param name="text">The dump output.</param>
        /// <param name="singleInterface">The interface name when the dump came from `wg show IF dump` (no name column).</param>
        /// <param name="nowUtc">The time ages are computed against.</param>
        public static List<WgDevice> Parse(string text, string singleInterface, DateTime nowUtc)
        {
            var devices = new List<WgDevice>();
            var byName = new Dictionary<string, WgDevice>(StringComparer.Ordinal);
            int offset = singleInterface == null ? 1 : 0;
            int lineNo = 0;
            int pos = 0;
            var fields = new string[10];
            while (pos < text.Length)
            {
                int end = text.IndexOf('\n', pos);
                if (end < 0) end = text.Length;
                int len = end - pos;
                if (len > 0 && text[end - 1] == '\r') len--;
                lineNo++;
                if (len > 0)
                {
                    int n = Split(text, pos, len, fields);
                    string name = singleInterface ?? fields[0];
                    if (n == 4 + offset)
                    {
                        var dev = new WgDevice
                        {
                            Interface = new WgInterface
                            {
                                Name = name,
                                PublicKey = NoneToNull(fields[offset + 1]),
                                ListenPort = ParseIntOrNull(fields[offset + 2], zeroIsNull: true),
                                FwMark = ParseFwMark(fields[offset + 3]),
                                Source = "wg",
                            }
                        };
                        // fields[offset] is the private key: deliberately not kept anywhere.
                        fields[offset] = null;
                        devices.Add(dev);
                        byName[name] = dev;
                    }
                    else if (n == 8 + offset)
                    {
                        if (!byName.TryGetValue(name, out var dev))
                            throw new FormatException($"wg dump line {lineNo}: a peer of '{name}' before its interface line.");
                        var peer = new WgPeer
                        {
                            Interface = name,
                            PublicKey = fields[offset],
                            HasPresharedKey = fields[offset + 1] != "(none)",
                            Endpoint = NoneToNull(fields[offset + 2]),
                            AllowedIPs = fields[offset + 3] == "(none)" ? new string[0] : fields[offset + 3].Split(','),
                            RxBytes = ParseLong(fields[offset + 5]),
                            TxBytes = ParseLong(fields[offset + 6]),
                            PersistentKeepalive = ParseIntOrNull(fields[offset + 7], zeroIsNull: true),
                        };
                        fields[offset + 1] = null;
                        SetHandshake(peer, ParseLong(fields[offset + 4]), 0, nowUtc);
                        dev.Peers.Add(peer);
                    }
                    else
                    {
                        throw new FormatException($"wg dump line {lineNo} has {n} fields; expected {4 + offset} or {8 + offset}.");
                    }
                }
                pos = end + 1;
            }
            foreach (var d in devices) d.Interface.PeerCount = d.Peers.Count;
            return devices;
        }

        internal static void SetHandshake(WgPeer peer, long seconds, long nanos, DateTime nowUtc)
        {
            if (seconds <= 0)
            {
                peer.LatestHandshake = null;
                peer.HandshakeAge = null;
                return;
            }
            var t = Epoch.AddSeconds(seconds).AddTicks(nanos / 100);
            peer.LatestHandshake = t;
            var age = nowUtc - t;
            peer.HandshakeAge = age < TimeSpan.Zero ? TimeSpan.Zero : age;
        }

        private static int Split(string text, int start, int len, string[] fields)
        {
            int n = 0, s = start, stop = start + len;
            for (int i = start; i <= stop; i++)
            {
                if (i == stop || text[i] == '\t')
                {
                    if (n < fields.Length) fields[n] = text.Substring(s, i - s);
                    n++;
                    s = i + 1;
                }
            }
            return n;
        }

        private static string NoneToNull(string s) => s == "(none)" || s.Length == 0 ? null : s;

        internal static string ParseFwMark(string s)
        {
            if (s == null || s == "off" || s == "0" || s.Length == 0) return null;
            if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) return "0x" + s.Substring(2).ToLowerInvariant();
            if (uint.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v)) return v == 0 ? null : "0x" + v.ToString("x", CultureInfo.InvariantCulture);
            return s;
        }

        private static int? ParseIntOrNull(string s, bool zeroIsNull)
        {
            if (s == "off" || s == "(none)") return null;
            if (!int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v)) throw new FormatException($"'{s}' is not a number.");
            return zeroIsNull && v == 0 ? (int?)null : v;
        }

        private static long ParseLong(string s)
        {
            if (!long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v)) throw new FormatException($"'{s}' is not a number.");
            return v;
        }
    }
}
