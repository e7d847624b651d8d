using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace WgTroubleshoot.Remoting
{
    /// <summary>
    /// What one end of a tunnel tells the other in a remote diagnosis: public keys, keyed hashes of preshared
    /// keys, ports, addresses, AllowedIPs, keepalives, handshakes and counters. Never a private or preshared
    /// key: the collector drops them where it reads them.
    /// </summary>
    public sealed class EndFacts
    {
        public string HostName { get; set; }
        public string ModuleVersion { get; set; }
        /// <summary>Every address of this host (no prefix length), on every link.</summary>
        public List<string> LocalAddresses { get; set; } = new List<string>();
        public List<InterfaceFacts> Interfaces { get; set; } = new List<InterfaceFacts>();
        /// <summary>Sources that could not be read, in words.</summary>
        public List<string> Problems { get; set; } = new List<string>();

        public Dictionary<string, object> ToData() => new Dictionary<string, object>
        {
            ["HostName"] = HostName,
            ["ModuleVersion"] = ModuleVersion,
            ["LocalAddresses"] = LocalAddresses,
            ["Problems"] = Problems,
            ["Interfaces"] = Interfaces.Select(i => (object)new Dictionary<string, object>
            {
                ["Name"] = i.Name,
                ["PublicKey"] = i.PublicKey,
                ["ListenPort"] = i.ListenPort,
                ["Addresses"] = i.Addresses,
                ["Peers"] = i.Peers.Select(p => (object)new Dictionary<string, object>
                {
                    ["PublicKey"] = p.PublicKey,
                    ["PresharedKeyHash"] = p.PresharedKeyHash,
                    ["Endpoint"] = p.Endpoint,
                    ["AllowedIPs"] = p.AllowedIPs,
                    ["PersistentKeepalive"] = p.PersistentKeepalive,
                    ["LatestHandshake"] = p.LatestHandshake,
                    ["RxBytes"] = p.RxBytes,
                    ["TxBytes"] = p.TxBytes,
                }).ToList(),
            }).ToList(),
        };

        public string ToJson() => MiniJson.Write(ToData());

        public static EndFacts FromJson(string json)
        {
            var d = MiniJson.Parse(json) as Dictionary<string, object> ?? throw new FormatException("the facts are not a JSON object");
            var f = new EndFacts
            {
                HostName = Str(d, "HostName"),
                ModuleVersion = Str(d, "ModuleVersion"),
                LocalAddresses = Strs(d, "LocalAddresses"),
                Problems = Strs(d, "Problems"),
            };
            foreach (var io in List(d, "Interfaces"))
            {
                var id = io as Dictionary<string, object> ?? throw new FormatException("an interface is not an object");
                var i = new InterfaceFacts { Name = Str(id, "Name"), PublicKey = Str(id, "PublicKey"), ListenPort = (int)Num(id, "ListenPort"), Addresses = Strs(id, "Addresses") };
                foreach (var po in List(id, "Peers"))
                {
                    var pd = po as Dictionary<string, object> ?? throw new FormatException("a peer is not an object");
                    i.Peers.Add(new PeerFacts
                    {
                        PublicKey = Str(pd, "PublicKey"),
                        PresharedKeyHash = Str(pd, "PresharedKeyHash"),
                        Endpoint = Str(pd, "Endpoint"),
                        AllowedIPs = Strs(pd, "AllowedIPs"),
                        PersistentKeepalive = (int)Num(pd, "PersistentKeepalive"),
                        LatestHandshake = (long)Num(pd, "LatestHandshake"),
                        RxBytes = (long)Num(pd, "RxBytes"),
                        TxBytes = (long)Num(pd, "TxBytes"),
                    });
                }
                f.Interfaces.Add(i);
            }
            return f;
        }

        internal static string Str(Dictionary<string, object> d, string k) => d.TryGetValue(k, out var v) && v != null ? Convert.ToString(v, CultureInfo.InvariantCulture) : null;
        internal static double Num(Dictionary<string, object> d, string k) => d.TryGetValue(k, out var v) && v is double x ? x : 0;
        internal static List<object> List(Dictionary<string, object> d, string k) => d.TryGetValue(k, out var v) && v is List<object> l ? l : new List<object>();
        internal static List<string> Strs(Dictionary<string, object> d, string k) => List(d, k).Select(x => Convert.ToString(x, CultureInfo.InvariantCulture)).ToList();
    }

    public sealed class InterfaceFacts
    {
        public string Name { get; set; }
        public string PublicKey { get; set; }
        public int ListenPort { get; set; }
        /// <summary>The interface's own addresses, in CIDR form.</summary>
        public List<string> Addresses { get; set; } = new List<string>();
        public List<PeerFacts> Peers { get; set; } = new List<PeerFacts>();
    }

    public sealed class PeerFacts
    {
        public string PublicKey { get; set; }
        /// <summary>HMAC-SHA256 of the preshared key under the run's nonce (hex, 16 bytes); null when there is none.</summary>
        public string PresharedKeyHash { get; set; }
        public string Endpoint { get; set; }
        public List<string> AllowedIPs { get; set; } = new List<string>();
        /// <summary>Seconds; 0 when off.</summary>
        public int PersistentKeepalive { get; set; }
        /// <summary>Unix seconds; 0 when never.</summary>
        public long LatestHandshake { get; set; }
        public long RxBytes { get; set; }
        public long TxBytes { get; set; }
    }

    /// <summary>What one end's capture of its listen port saw during the common window.</summary>
    public sealed class CaptureFacts
    {
        public string HostName { get; set; }
        public string Interface { get; set; }
        public int ListenPort { get; set; }
        public bool Ran { get; set; }
        public string Error { get; set; }
        public DateTime StartUtc { get; set; }
        public DateTime EndUtc { get; set; }
        /// <summary>The probe this end sent into the tunnel during the window (or null).</summary>
        public string Probe { get; set; }
        public List<PacketFact> Packets { get; set; } = new List<PacketFact>();

        public string ToJson() => MiniJson.Write(new Dictionary<string, object>
        {
            ["HostName"] = HostName,
            ["Interface"] = Interface,
            ["ListenPort"] = ListenPort,
            ["Ran"] = Ran,
            ["Error"] = Error,
            ["StartUtc"] = StartUtc.ToString("o", CultureInfo.InvariantCulture),
            ["EndUtc"] = EndUtc.ToString("o", CultureInfo.InvariantCulture),
            ["Probe"] = Probe,
            ["Packets"] = Packets.Select(p => (object)new Dictionary<string, object>
            {
                ["Time"] = p.TimeUtc.ToString("o", CultureInfo.InvariantCulture),
                ["Outgoing"] = p.Outgoing,
                ["Remote"] = p.Remote,
                ["Type"] = p.Type,
            }).ToList(),
        });

        public static CaptureFacts FromJson(string json)
        {
            var d = MiniJson.Parse(json) as Dictionary<string, object> ?? throw new FormatException("the capture is not a JSON object");
            var c = new CaptureFacts
            {
                HostName = EndFacts.Str(d, "HostName"),
                Interface = EndFacts.Str(d, "Interface"),
                ListenPort = (int)EndFacts.Num(d, "ListenPort"),
                Ran = d.TryGetValue("Ran", out var r) && r is bool b && b,
                Error = EndFacts.Str(d, "Error"),
                StartUtc = Time(EndFacts.Str(d, "StartUtc")),
                EndUtc = Time(EndFacts.Str(d, "EndUtc")),
                Probe = EndFacts.Str(d, "Probe"),
            };
            foreach (var po in EndFacts.List(d, "Packets"))
            {
                if (!(po is Dictionary<string, object> pd)) continue;
                c.Packets.Add(new PacketFact
                {
                    TimeUtc = Time(EndFacts.Str(pd, "Time")),
                    Outgoing = pd.TryGetValue("Outgoing", out var o) && o is bool ob && ob,
                    Remote = EndFacts.Str(pd, "Remote"),
                    Type = EndFacts.Str(pd, "Type"),
                });
            }
            return c;
        }

        private static DateTime Time(string s)
            => s == null ? DateTime.MinValue : DateTime.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind).ToUniversalTime();
    }

    public sealed class PacketFact
    {
        public DateTime TimeUtc { get; set; }
        public bool Outgoing { get; set; }
        /// <summary>The other address and port of the datagram (ip:port or [ipv6]:port).</summary>
        public string Remote { get; set; }
        /// <summary>Initiation, Response, CookieReply, Data or Keepalive.</summary>
        public string Type { get; set; }
    }
}
