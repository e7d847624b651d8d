using System;
using System.Collections.Generic;
using System.Linq;

namespace WgTroubleshoot.Snapshot
{
    /// <summary>
    /// Everything one diagnosis run knows about this host, collected once by <see cref="SnapshotCollector"/>.
    /// Plain data: it serializes to JSON (<see cref="SnapshotJson"/>) without any secret, and the checks judge it
    /// without running anything. A source that could not be read leaves its part empty and says why in
    /// <see cref="Sources"/>: an explicit unknown, never an empty "nothing there".
    /// To add a fact: add a property here (or on <see cref="InterfaceSnapshot"/>), a source that fills it
    /// (<see cref="ISnapshotSource"/>), and leave <see cref="SchemaVersion"/> alone unless a meaning changes.
    /// </summary>
    public sealed class HostSnapshot
    {
        /// <summary>The version of this format; readers refuse a newer major version.</summary>
        public const int CurrentSchemaVersion = 1;

        public string Format { get; set; } = "WgTroubleshoot.HostSnapshot";
        public int SchemaVersion { get; set; } = CurrentSchemaVersion;
        public string HostName { get; set; }
        /// <summary>"Linux" or "Windows" (the checks that only apply on Linux look at this, not at the machine that replays).</summary>
        public string Platform { get; set; }
        public bool Elevated { get; set; }
        public string ModuleVersion { get; set; }
        /// <summary>When collection started and ended (UTC).</summary>
        public DateTime CollectedAt { get; set; }
        public DateTime CompletedAt { get; set; }
        /// <summary>What was asked for (interfaces, -Deep, sample and capture times).</summary>
        public SnapshotRequest Request { get; set; } = new SnapshotRequest();
        /// <summary>What every source said: Ok, Failed or Unavailable, with its ErrorId and message.</summary>
        public List<SourceStatus> Sources { get; set; } = new List<SourceStatus>();
        /// <summary>Every link of the host with its addresses (`ip -o link`, `ip -o addr`).</summary>
        public List<LinkSnapshot> Links { get; set; } = new List<LinkSnapshot>();
        public RouteState Routes { get; set; } = new RouteState();
        public NetfilterState Netfilter { get; set; } = new NetfilterState();
        public SysctlState Sysctls { get; set; } = new SysctlState();
        /// <summary>Endpoint host names and what they resolved to (each name once).</summary>
        public List<NameResolution> Names { get; set; } = new List<NameResolution>();
        /// <summary>Kernel SNMP counters at the start and the end of the sample time (reverse-path drops, forwarding errors).</summary>
        public CounterState Counters { get; set; }
        /// <summary>conntrack's UDP flows of the WireGuard ports; null when not read.</summary>
        public ConntrackState Conntrack { get; set; }
        /// <summary>The WireGuard interfaces looked at, in the order asked.</summary>
        public List<InterfaceSnapshot> Interfaces { get; set; } = new List<InterfaceSnapshot>();

        /// <summary>The status of a source for one interface (or the host-wide one when the interface has none); null when never collected.</summary>
        public SourceStatus Source(string name, string iface = null)
        {
            SourceStatus host = null;
            foreach (var s in Sources)
            {
                if (!string.Equals(s.Name, name, StringComparison.Ordinal)) continue;
                if (iface != null && string.Equals(s.Interface, iface, StringComparison.Ordinal)) return s;
                if (s.Interface == null && host == null) host = s;
            }
            return host;
        }

        public LinkSnapshot Link(string name) => Links.FirstOrDefault(l => string.Equals(l.Name, name, StringComparison.Ordinal));

        public NameResolution Name(string host) => Names.FirstOrDefault(n => string.Equals(n.Host, host, StringComparison.OrdinalIgnoreCase));

        public InterfaceSnapshot Interface(string name) => Interfaces.FirstOrDefault(i => string.Equals(i.Name, name, StringComparison.Ordinal));

        /// <summary>
        /// What shows that this host can send to an address family at all: its default route of that family, or
        /// else a looked-up destination of the family that routes out of a link other than lo and the WireGuard
        /// interfaces looked at; null when nothing does (the host has no route of that family).
        /// </summary>
        public string FamilyRoute(bool v6)
        {
            var dev = v6 ? Routes.DefaultDevice6 : Routes.DefaultDevice;
            if (!string.IsNullOrEmpty(dev))
            {
                var text = ((v6 ? Routes.DefaultText6 : Routes.DefaultText) ?? "").Split('\n')[0].Trim();
                return $"ip {(v6 ? "-6" : "-4")} route show default: {(text.Length > 0 ? text : "default dev " + dev)}";
            }
            foreach (var l in Routes.Lookups)
            {
                if (!l.Reachable || l.Destination == null || l.Destination.Contains(":") != v6) continue;
                if (string.IsNullOrEmpty(l.Device) || l.Device == "lo" || Interface(l.Device) != null) continue;
                return $"ip route get {l.Destination}: {(l.Text ?? "").Split('\n')[0].Trim()}";
            }
            return null;
        }
    }

    /// <summary>What the run was asked to collect.</summary>
    public sealed class SnapshotRequest
    {
        public string[] Interfaces { get; set; }
        public bool Deep { get; set; }
        public int SampleSeconds { get; set; } = 3;
        public int TraceSeconds { get; set; } = 6;
        /// <summary>The other end's configuration file given with -PeerConfigPath (its path only).</summary>
        public string PeerConfigPath { get; set; }
    }

    /// <summary>One WireGuard interface: two samples of its live state and everything read about it.</summary>
    public sealed class InterfaceSnapshot
    {
        public string Name { get; set; }
        /// <summary>The live state, first and (after the sample time) second reading; one when sampling was off.</summary>
        public List<WgSample> Samples { get; set; } = new List<WgSample>();
        /// <summary>The interface's wg-quick configuration (no secrets); null when it has none or it could not be read.</summary>
        public ConfigSnapshot Config { get; set; }
        /// <summary>The linter's findings for that file.</summary>
        public List<ConfigFinding> Lint { get; set; } = new List<ConfigFinding>();
        /// <summary>-PeerConfigPath: the other end's file compared with this one (keys, ports, AllowedIPs).</summary>
        public ConfigSnapshot PeerConfig { get; set; }
        public List<ConfigFinding> BothEnds { get; set; } = new List<ConfigFinding>();
        /// <summary>The capture on the listen port, when the collector judged one needed.</summary>
        public CaptureResult Capture { get; set; }
        /// <summary>-Deep: the path MTU towards each peer's endpoint.</summary>
        public List<PathMtuResult> Mtu { get; set; } = new List<PathMtuResult>();
        /// <summary>The reverse path of every sender seen (input route on the uplink, route back).</summary>
        public List<ReversePathLookup> ReversePaths { get; set; } = new List<ReversePathLookup>();
        /// <summary>Liveness probes sent into the tunnel (Liveness/TunnelProbe), one per peer whose counters did not prove two-way traffic.</summary>
        public List<Liveness.ProbeResult> Probes { get; set; } = new List<Liveness.ProbeResult>();
        /// <summary>Each peer's live endpoint at every read while the sample ran (SharedKeyPair).</summary>
        public List<Liveness.EndpointReading> EndpointReadings { get; set; } = new List<Liveness.EndpointReading>();
        /// <summary>`ss -H -u -a -n -p 'sport = :PORT'` for the configured ListenPort when WireGuard does not listen there.</summary>
        public string ListenPortSockets { get; set; }
        /// <summary>Whether resolvconf is on PATH, read only when the configuration has DNS = (ResolverMissing).</summary>
        public bool? ResolvconfAvailable { get; set; }
        /// <summary>Handshake log lines of this interface (replays, invalid initiations) of the last minutes, read only when a peer fails.</summary>
        public List<WgLogEvent> LogEvents { get; set; } = new List<WgLogEvent>();
        /// <summary>-Deep on a host that forwards: the TCP SYNs that arrived through the tunnel, with their MSS (MssClamp); null when not captured.</summary>
        public SynCapture Syns { get; set; }
        /// <summary>Where those SYNs are forwarded (`ip route get DST from SRC iif TUNNEL`).</summary>
        public List<ForwardRoute> ForwardRoutes { get; set; } = new List<ForwardRoute>();

        /// <summary>The first sample (null when the state could not be read).</summary>
        public WgSample First => Samples.Count > 0 ? Samples[0] : null;
        /// <summary>The latest sample (null when the state could not be read).</summary>
        public WgSample Last => Samples.Count > 0 ? Samples[Samples.Count - 1] : null;
    }

    /// <summary>One reading of an interface's live state (wg show dump or the userspace socket).</summary>
    public sealed class WgSample
    {
        public DateTime Taken { get; set; }
        public WgInterface Interface { get; set; }
        public List<WgPeer> Peers { get; set; } = new List<WgPeer>();
    }

    /// <summary>One link (`ip -o link` and `ip -o addr`).</summary>
    public sealed class LinkSnapshot
    {
        public string Name { get; set; }
        public int? Mtu { get; set; }
        public bool AdminUp { get; set; }
        public bool LowerUp { get; set; }
        /// <summary>Up, Down or NoCarrier.</summary>
        public string State { get; set; }
        /// <summary>Addresses in CIDR form.</summary>
        public List<string> Addresses { get; set; } = new List<string>();
    }

    /// <summary>Default routes and the route to each address the checks ask about (endpoints, resolved names).</summary>
    public sealed class RouteState
    {
        public string DefaultDevice { get; set; }
        public string DefaultDevice6 { get; set; }
        /// <summary>`ip -4 route show default` and `ip -6 route show default` as printed.</summary>
        public string DefaultText { get; set; }
        public string DefaultText6 { get; set; }
        /// <summary>`ip route get` for each destination, once per address.</summary>
        public List<RouteLookup> Lookups { get; set; } = new List<RouteLookup>();

        private Dictionary<string, RouteLookup> _byDestination;

        /// <summary>The lookup for an address (null when it was not looked up); indexed, so a check may ask per peer.</summary>
        public RouteLookup Lookup(string address)
        {
            if (address == null) return null;
            if (_byDestination == null || _byDestination.Count > Lookups.Count || _indexed != Lookups.Count)
            {
                _byDestination = new Dictionary<string, RouteLookup>(StringComparer.OrdinalIgnoreCase);
                foreach (var l in Lookups) if (l.Destination != null && !_byDestination.ContainsKey(l.Destination)) _byDestination.Add(l.Destination, l);
                _indexed = Lookups.Count;
            }
            return _byDestination.TryGetValue(address, out var r) ? r : null;
        }

        private int _indexed = -1;
    }

    /// <summary>The route this host takes to one address.</summary>
    public sealed class RouteLookup
    {
        public string Destination { get; set; }
        /// <summary>True when a route exists (ip route get succeeded).</summary>
        public bool Reachable { get; set; }
        public string Device { get; set; }
        public string Via { get; set; }
        public string Source { get; set; }
        /// <summary>The routing table the kernel picked (wg-quick's fwmark table shows here).</summary>
        public string Table { get; set; }
        /// <summary>What ip printed (the route or the error).</summary>
        public string Text { get; set; }
    }

    /// <summary>A host name and what the system resolver answered (bounded in time).</summary>
    public sealed class NameResolution
    {
        public string Host { get; set; }
        public string[] Addresses { get; set; } = new string[0];
        /// <summary>Why nothing came back (timeout, NXDOMAIN ...); null when it resolved.</summary>
        public string Error { get; set; }
        public double ElapsedMilliseconds { get; set; }
    }

    /// <summary>The kernel parameters the checks use, now and after a reboot.</summary>
    public sealed class SysctlState
    {
        /// <summary>/proc/sys values now, by sysctl key (net.ipv4.ip_forward ...); a key that could not be read is absent.</summary>
        public Dictionary<string, string> Runtime { get; set; } = new Dictionary<string, string>(StringComparer.Ordinal);
        /// <summary>The last persistent setting of a key in sysctl.conf / sysctl.d (absent: no file sets it).</summary>
        public Dictionary<string, Forwarding.SysctlSetting> Persistent { get; set; } = new Dictionary<string, Forwarding.SysctlSetting>(StringComparer.Ordinal);

        public string Get(string key) => key != null && Runtime.TryGetValue(key, out var v) ? v : null;
        public Forwarding.SysctlSetting GetPersistent(string key) => key != null && Persistent.TryGetValue(key, out var v) ? v : null;
    }

    /// <summary>The capture on one interface's listen port.</summary>
    public sealed class CaptureResult
    {
        /// <summary>Why the collector judged a capture needed.</summary>
        public string Reason { get; set; }
        public int Seconds { get; set; }
        public int ListenPort { get; set; }
        /// <summary>The WireGuard messages seen, per remote endpoint.</summary>
        public List<TrafficTrace> Traces { get; set; } = new List<TrafficTrace>();
    }
}
