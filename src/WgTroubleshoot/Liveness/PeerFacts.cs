using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using WgTroubleshoot.Native;

namespace WgTroubleshoot.Liveness
{
    /// <summary>A peer as its configuration file declares it (only what the peer checks compare).</summary>
    public sealed class ConfiguredPeer
    {
        public string PublicKey { get; set; }
        public string Name { get; set; }
        public string[] AllowedIPs { get; set; } = new string[0];
        public string Endpoint { get; set; }
        public string EndpointHost { get; set; }
    }

    /// <summary>The answer of `ip route get` for one address, as recorded.</summary>
    public sealed class RouteFact
    {
        public string Destination { get; set; }
        /// <summary>The fwmark the lookup carried (WireGuard's own packets carry the interface's fwmark); null for none.</summary>
        public string Mark { get; set; }
        public bool Success { get; set; }
        /// <summary>stdout when it succeeded, stderr when it failed.</summary>
        public string Text { get; set; }
        public string Device => Success ? TunnelProbe.RouteDevice(Text) : null;
        public string Line => Success ? TunnelProbe.RouteLine(Text) : (Text ?? "").Trim();
    }

    /// <summary>
    /// The facts of one interface that the peer and key checks judge: measured once, kept as data, so a recorded
    /// copy replays the same verdicts in unit tests.
    /// </summary>
    public sealed class PeerFacts
    {
        public string Interface { get; set; }
        public bool IsServer { get; set; }
        /// <summary>`wg show IF fwmark`: "off" or a value.</summary>
        public string FwMark { get; set; }
        /// <summary>True when the interface marks its own packets (wg-quick's policy routing): a plain route lookup then says nothing about them.</summary>
        public bool HasFwMark => !string.IsNullOrEmpty(FwMark) && FwMark != "off" && FwMark != "0";
        public int? LiveListenPort { get; set; }
        /// <summary>What shows this host routes IPv4 / IPv6 at all (its default route, or a destination of the family that routes); null when nothing does.</summary>
        public string Route4 { get; set; }
        public string Route6 { get; set; }
        /// <summary>`ip -4 route show default` and `ip -6 route show default` as read.</summary>
        public string DefaultRoutes4 { get; set; }
        public string DefaultRoutes6 { get; set; }
        public int? ConfiguredListenPort { get; set; }
        /// <summary>`ss -H -ulpn 'sport = :PORT'` for the configured port, when it differs from the live one.</summary>
        public string ListenPortSockets { get; set; }
        public bool HasConfig { get; set; }
        public string[] ConfiguredDns { get; set; } = new string[0];
        /// <summary>True when a resolvconf program is on PATH (wg-quick needs it for DNS =).</summary>
        public bool? ResolvconfAvailable { get; set; }
        public List<ConfiguredPeer> ConfiguredPeers { get; set; } = new List<ConfiguredPeer>();
        public List<WgPeer> LivePeers { get; set; } = new List<WgPeer>();
        /// <summary>Handshake verdicts of the sample (after the probe).</summary>
        public Dictionary<string, HandshakeResult> Handshakes { get; set; } = new Dictionary<string, HandshakeResult>(StringComparer.Ordinal);
        /// <summary>Probe results, by public key.</summary>
        public Dictionary<string, ProbeResult> Probes { get; set; } = new Dictionary<string, ProbeResult>(StringComparer.Ordinal);
        /// <summary>The live endpoint at each read during the sample, by public key, in order.</summary>
        public Dictionary<string, List<string>> EndpointSamples { get; set; } = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        /// <summary>How many times the endpoint was read during the sample, by public key.</summary>
        public Dictionary<string, int> EndpointReads { get; set; } = new Dictionary<string, int>(StringComparer.Ordinal);
        /// <summary>How long the endpoint samples span.</summary>
        public double EndpointSampleSeconds { get; set; }
        /// <summary>`ip route get` of each live endpoint address, by public key.</summary>
        public Dictionary<string, RouteFact> EndpointRoutes { get; set; } = new Dictionary<string, RouteFact>(StringComparer.Ordinal);
        /// <summary>Addresses each configured endpoint name resolves to now, by public key.</summary>
        public Dictionary<string, string[]> Resolved { get; set; } = new Dictionary<string, string[]>(StringComparer.Ordinal);

        public static void AddSample(Dictionary<string, List<string>> samples, IEnumerable<WgPeer> peers)
        {
            foreach (var p in peers)
            {
                if (string.IsNullOrEmpty(p.Endpoint)) continue;
                if (!samples.TryGetValue(p.PublicKey, out var l)) samples[p.PublicKey] = l = new List<string>();
                l.Add(p.Endpoint);
            }
        }
    }

    /// <summary>Endpoint text helpers.</summary>
    public static class PeerFactsCollector
    {
        public static IPAddress EndpointAddress(string endpoint)
        {
            if (string.IsNullOrEmpty(endpoint)) return null;
            int colon = endpoint.LastIndexOf(':');
            if (colon <= 0) return null;
            var host = endpoint.Substring(0, colon).Trim('[', ']');
            int pct = host.IndexOf('%');
            if (pct > 0) host = host.Substring(0, pct);
            return IPAddress.TryParse(host, out var a) ? a : null;
        }
    }

    /// <summary>One socket line of `ss -H -u -a -n -p`.</summary>
    public sealed class SocketOwner
    {
        public string Local { get; set; }
        /// <summary>Process names with their PIDs ("socat pid 1234"), empty when ss could not name them.</summary>
        public List<string> Processes { get; } = new List<string>();
        public override string ToString() => Local + (Processes.Count > 0 ? " owned by " + string.Join(", ", Processes) : "");

        /// <summary>Parses ss output ("UNCONN 0 0 0.0.0.0:51820 0.0.0.0:* users:((\"socat\",pid=12,fd=5))").</summary>
        public static List<SocketOwner> Parse(string ssOutput)
        {
            var list = new List<SocketOwner>();
            foreach (var raw in (ssOutput ?? "").Split('\n'))
            {
                var line = raw.Trim();
                if (line.Length == 0 || line.StartsWith("State", StringComparison.Ordinal) || line.StartsWith("Recv-Q", StringComparison.Ordinal)) continue;
                var fields = Regex.Split(line, @"\s+");
                // State Recv-Q Send-Q Local Peer [Process]; some ss versions omit State with -u
                int localIdx = fields.Length > 0 && Regex.IsMatch(fields[0], "^[0-9]+$") ? 2 : 3;
                if (fields.Length <= localIdx) continue;
                var o = new SocketOwner { Local = fields[localIdx] };
                foreach (Match m in Regex.Matches(line, "\\(\"([^\"]+)\",pid=([0-9]+)"))
                    o.Processes.Add(m.Groups[1].Value + " pid " + m.Groups[2].Value);
                list.Add(o);
            }
            return list;
        }
    }
}
