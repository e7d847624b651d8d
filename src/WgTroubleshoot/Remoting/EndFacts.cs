using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using WgTroubleshoot.Json;

namespace WgTroubleshoot.Remoting
{
    /// <summary>
    /// What one end of a tunnel tells the other in a remote diagnosis: public keys, keyed hashes of preshared
    /// keys, ports, addresses, AllowedIPs, keepalives, handshakes and counters. Never a private or preshared
    /// key: the collector drops them where it reads them. Read on the other host as untrusted input: the known
    /// fields, each of its type and bounded (<see cref="JsonFields"/>); unknown fields are ignored (another version of
    /// the module may add some).
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

        public string ToJson() => JsonWriter.Compact(ToData());

        private const int MaxItems = 65536;

        /// <summary>The facts another host sent; <see cref="FormatException"/> when the text is not exactly that.</summary>
        public static EndFacts FromJson(string json)
        {
            var d = JsonFields.ParseObject(json, "the facts");
            var f = new EndFacts
            {
                HostName = JsonFields.String(d, "HostName", 255),
                ModuleVersion = JsonFields.String(d, "ModuleVersion", 64),
                LocalAddresses = JsonFields.Strings(d, "LocalAddresses", MaxItems, 128),
                Problems = JsonFields.Strings(d, "Problems", 1024),
            };
            foreach (var io in JsonFields.List(d, "Interfaces", 1024))
            {
                var id = JsonFields.Object(io, "an interface");
                var i = new InterfaceFacts
                {
                    Name = JsonFields.String(id, "Name", 255), PublicKey = JsonFields.String(id, "PublicKey", 64),
                    ListenPort = (int)JsonFields.Whole(id, "ListenPort", 0, 65535), Addresses = JsonFields.Strings(id, "Addresses", MaxItems, 128),
                };
                foreach (var po in JsonFields.List(id, "Peers", MaxItems))
                {
                    var pd = JsonFields.Object(po, "a peer");
                    i.Peers.Add(new PeerFacts
                    {
                        PublicKey = JsonFields.String(pd, "PublicKey", 64),
                        PresharedKeyHash = JsonFields.String(pd, "PresharedKeyHash", 128),
                        Endpoint = JsonFields.String(pd, "Endpoint", 300),
                        AllowedIPs = JsonFields.Strings(pd, "AllowedIPs", MaxItems, 128),
                        PersistentKeepalive = (int)JsonFields.Whole(pd, "PersistentKeepalive", 0, 65535),
                        LatestHandshake = JsonFields.Whole(pd, "LatestHandshake", long.MinValue, long.MaxValue),
                        RxBytes = JsonFields.Whole(pd, "RxBytes", long.MinValue, long.MaxValue),
                        TxBytes = JsonFields.Whole(pd, "TxBytes", long.MinValue, long.MaxValue),
                    });
                }
                f.Interfaces.Add(i);
            }
            return f;
        }
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

        public string ToJson() => JsonWriter.Compact(new Dictionary<string, object>
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

        /// <summary>The capture another host sent; <see cref="FormatException"/> when the text is not exactly that.</summary>
        public static CaptureFacts FromJson(string json)
        {
            var d = JsonFields.ParseObject(json, "the capture");
            var c = new CaptureFacts
            {
                HostName = JsonFields.String(d, "HostName", 255),
                Interface = JsonFields.String(d, "Interface", 255),
                ListenPort = (int)JsonFields.Whole(d, "ListenPort", 0, 65535),
                Ran = JsonFields.Bool(d, "Ran"),
                Error = JsonFields.String(d, "Error"),
                StartUtc = Time(d, "StartUtc"),
                EndUtc = Time(d, "EndUtc"),
                Probe = JsonFields.String(d, "Probe", 128),
            };
            foreach (var po in JsonFields.List(d, "Packets", 4 * EndCollector.MaxPackets))
            {
                var pd = JsonFields.Object(po, "a packet");
                c.Packets.Add(new PacketFact
                {
                    TimeUtc = Time(pd, "Time"),
                    Outgoing = JsonFields.Bool(pd, "Outgoing"),
                    Remote = JsonFields.String(pd, "Remote", 128),
                    Type = JsonFields.String(pd, "Type", 32),
                });
            }
            return c;
        }

        private static DateTime Time(Dictionary<string, object> d, string key)
        {
            var s = JsonFields.String(d, key, 64);
            if (s == null) return DateTime.MinValue;
            return DateTime.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var t) ? t.ToUniversalTime()
                : throw new FormatException($"{key} must be a date and time (ISO 8601)");
        }
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
