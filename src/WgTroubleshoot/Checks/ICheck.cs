using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using WgTroubleshoot.Firewall;
using WgTroubleshoot.Snapshot;

namespace WgTroubleshoot.Checks
{
    /// <summary>
    /// One check: a pure function from a snapshot (and the findings of the checks before it in
    /// <see cref="CheckCatalog"/>) to findings about one interface. It runs nothing and changes nothing.
    /// </summary>
    public interface ICheck
    {
        /// <summary>Stable name, shown in CheckNotRun findings ("FirewallInput").</summary>
        string Name { get; }

        /// <summary>
        /// The sources (<see cref="SourceNames"/>) whose facts it judges. When one is Failed or Unavailable the check
        /// does not run and the diagnosis reports CheckNotRun naming it and the source's error instead.
        /// </summary>
        IReadOnlyList<string> Needs { get; }

        IEnumerable<Finding> Evaluate(CheckContext context);
    }

    /// <summary>What a check sees: the snapshot, the interface judged, derived facts, and the earlier findings.</summary>
    public sealed class CheckContext
    {
        private readonly List<Finding> _earlier;
        private Dictionary<string, HandshakeResult> _handshakes;
        private Dictionary<string, WgPeer> _peers;
        private List<FirewallStatus> _firewall;
        private bool? _server;

        public CheckContext(HostSnapshot host, InterfaceSnapshot iface, IReadOnlyList<Finding> earlier = null)
        {
            Host = host;
            Interface = iface;
            _earlier = earlier?.ToList() ?? new List<Finding>();
        }

        public HostSnapshot Host { get; }
        public InterfaceSnapshot Interface { get; }
        public string Name => Interface.Name;
        /// <summary>The latest sample of the live state.</summary>
        public WgSample Device => Interface.Last;
        public ConfigSnapshot Config => Interface.Config;
        public bool IsLinux => Host.Platform == "Linux";
        public bool IsServer => _server ?? (_server = InterfaceFacts.IsServer(Interface)).Value;
        public string Role => IsServer ? "Server" : "Client";
        public int TraceSeconds => Interface.Capture?.Seconds ?? Host.Request.TraceSeconds;
        public IReadOnlyList<TrafficTrace> Traces => (IReadOnlyList<TrafficTrace>)Interface.Capture?.Traces ?? new TrafficTrace[0];

        /// <summary>The findings of the checks that ran before this one (this interface only).</summary>
        public IReadOnlyList<Finding> Earlier => _earlier;

        internal void AddEarlier(IEnumerable<Finding> findings) => _earlier.AddRange(findings);

        /// <summary>True when an earlier check found this cause (on the given peer, or on any).</summary>
        public bool Found(Cause cause, string peer = null)
            => _earlier.Any(f => f.Cause == cause.ToString() && (peer == null || f.Peer == peer || f.Peers.Contains(peer)));

        /// <summary>Each peer's handshake verdict, by public key.</summary>
        public IReadOnlyDictionary<string, HandshakeResult> Handshakes => _handshakes ?? (_handshakes = InterfaceFacts.Handshakes(Interface));

        /// <summary>A live peer by public key (null when it is not live).</summary>
        public WgPeer Peer(string key)
        {
            if (_peers == null)
            {
                _peers = new Dictionary<string, WgPeer>(StringComparer.Ordinal);
                if (Device != null) foreach (var p in Device.Peers) if (p.PublicKey != null && !_peers.ContainsKey(p.PublicKey)) _peers.Add(p.PublicKey, p);
            }
            return key != null && _peers.TryGetValue(key, out var v) ? v : null;
        }

        /// <summary>What every firewall backend does with inbound UDP on this interface's listen port (empty without one).</summary>
        public IReadOnlyList<FirewallStatus> FirewallStatuses
        {
            get
            {
                if (_firewall != null) return _firewall;
                var port = Device?.Interface.ListenPort;
                if (!port.HasValue) return _firewall = new List<FirewallStatus>();
                var q = new FirewallQuery { Port = port.Value, Interface = Name, Underlay = Host.Netfilter.Underlay };
                return _firewall = FirewallStatusBuilder.Build(Host.Netfilter.Filter(), q);
            }
        }

        /// <summary>A new finding about this interface, with Severity and Cause from the enums.</summary>
        public Finding NewFinding(string id, Severity severity, Cause cause, string summary, string peer = null)
            => new Finding
            {
                Id = id, Severity = severity.ToString(), Cause = cause.ToString(), Summary = summary,
                Interface = Name, Role = Role, Peer = peer, PeerName = peer != null ? Peer(peer)?.Name : null,
                Timestamp = Host.CompletedAt == default(DateTime) ? DateTime.UtcNow : Host.CompletedAt,
            };

        internal static string Line(ConfigFinding f)
            => $"{f.File}{(f.Line.HasValue ? ":" + f.Line.Value.ToString(CultureInfo.InvariantCulture) : "")}";
    }
}
