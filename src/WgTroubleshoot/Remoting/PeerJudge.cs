using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;

namespace WgTroubleshoot.Remoting
{
    /// <summary>A finding of the both-ends diagnosis and the end it is about (this host or the peer's).</summary>
    public sealed class JudgedFinding
    {
        public Finding Finding { get; set; }
        /// <summary>True when the finding is about the other end (it is repaired over the session).</summary>
        public bool OnPeer { get; set; }
        public override string ToString() => (OnPeer ? "[peer] " : "[local] ") + Finding;
    }

    /// <summary>
    /// Judges the two ends of one tunnel together: keys, preshared keys (by keyed hash), ports and AllowedIPs
    /// as both see them live; a peer behind NAT without keepalive; and, from captures of both listen ports in
    /// the same window, where packets get lost between them. Pure: no host is touched.
    /// </summary>
    public static class PeerJudge
    {
        public const int RepairKeepalive = 25;

        /// <summary>Which interface of the other end belongs to <paramref name="local"/>: the one that lists its key, or whose key it lists, or the only one.</summary>
        public static InterfaceFacts Pair(InterfaceFacts local, EndFacts remote, string remoteInterface = null)
        {
            if (!string.IsNullOrEmpty(remoteInterface)) return remote.Interfaces.FirstOrDefault(i => i.Name == remoteInterface);
            return remote.Interfaces.FirstOrDefault(i => i.Peers.Any(p => p.PublicKey == local.PublicKey))
                ?? remote.Interfaces.FirstOrDefault(i => local.Peers.Any(p => p.PublicKey == i.PublicKey))
                ?? (remote.Interfaces.Count == 1 ? remote.Interfaces[0] : null);
        }

        public static List<JudgedFinding> Judge(EndFacts localHost, InterfaceFacts local, EndFacts remoteHost, InterfaceFacts remote,
            CaptureFacts localCapture, CaptureFacts remoteCapture)
        {
            var r = new List<JudgedFinding>();
            var a = new Side(localHost, local, false);
            var b = new Side(remoteHost, remote, true);
            var pa = a.PeerFor(b);
            var pb = b.PeerFor(a);
            Keys(a, b, pa, r);
            Keys(b, a, pb, r);
            if (pa != null && pb != null && !string.Equals(pa.PresharedKeyHash, pb.PresharedKeyHash, StringComparison.Ordinal))
            {
                string what = pa.PresharedKeyHash == null ? $"{a.Name} has no preshared key for the peer and {b.Name} has one"
                    : pb.PresharedKeyHash == null ? $"{a.Name} has a preshared key for the peer and {b.Name} has none"
                    : "both ends have a preshared key and they differ";
                r.Add(New(a, pa, Severity.Error, nameof(Cause.PresharedKeyMismatch), "WGD-PEER-PSK",
                    "The two ends use different preshared keys: every handshake fails.",
                    new[] { what + " (compared by keyed hash; no key crossed the session)." },
                    "Give both ends the same PresharedKey (wg set <if> peer <key> preshared-key <file>) and in both configurations.", false));
            }
            if (pa != null && pb != null)
            {
                AllowedIps(a, b, pa, r);
                AllowedIps(b, a, pb, r);
                Ports(a, b, pa, r);
                Ports(b, a, pb, r);
                Nat(a, b, pa, pb, r);
                Nat(b, a, pb, pa, r);
            }
            bool keysBroken = r.Any(x => x.Finding.Cause == nameof(Cause.KeyMismatch) || x.Finding.Cause == nameof(Cause.PresharedKeyMismatch) || x.Finding.Cause == nameof(Cause.PortMismatch));
            if (localCapture != null && remoteCapture != null)
            {
                foreach (var c in new[] { localCapture, remoteCapture })
                    if (!c.Ran)
                        r.Add(New(c == localCapture ? a : b, null, Severity.Warning, "CheckNotRun", "WGD-PEER-CAPTURE",
                            $"The capture of both ends could not run on {c.HostName}: where packets are lost between the ends is not known.",
                            new[] { $"capture on {c.HostName} ({c.Interface}, UDP {c.ListenPort}): {c.Error}" }, "Install tcpdump and run as root on both ends.", false));
                if (localCapture.Ran && remoteCapture.Ran && !keysBroken)
                {
                    var start = localCapture.StartUtc > remoteCapture.StartUtc ? localCapture.StartUtc : remoteCapture.StartUtc;
                    var end = localCapture.EndUtc < remoteCapture.EndUtc ? localCapture.EndUtc : remoteCapture.EndUtc;
                    if (end - start < TimeSpan.FromSeconds(1))
                        r.Add(New(a, null, Severity.Warning, "CheckNotRun", "WGD-PEER-CAPTURE",
                            "The captures of the two ends did not overlap: where packets are lost between the ends is not known.",
                            new[] { $"{localCapture.HostName} captured {T(localCapture.StartUtc)}-{T(localCapture.EndUtc)}, {remoteCapture.HostName} {T(remoteCapture.StartUtc)}-{T(remoteCapture.EndUtc)} (UTC)" },
                            "Check that the clocks of the two hosts agree (NTP).", false));
                    else
                    {
                        // one loss is named once: what the other end answers is judged with the direction it answers
                        if (!Path(a, b, pa, localCapture, remoteCapture, start, end, r))
                            Path(b, a, pb, remoteCapture, localCapture, start, end, r);
                    }
                }
            }
            return r.OrderByDescending(x => (int)Enum.Parse(typeof(Severity), x.Finding.Severity)).ToList();
        }

        private sealed class Side
        {
            public Side(EndFacts host, InterfaceFacts i, bool onPeer) { Host = host; If = i; OnPeer = onPeer; }
            public EndFacts Host { get; }
            public InterfaceFacts If { get; }
            public bool OnPeer { get; }
            public string Name => $"{Host.HostName} ({If.Name})";
            public PeerFacts PeerFor(Side other) => If.Peers.FirstOrDefault(p => p.PublicKey == other.If.PublicKey);
            public IEnumerable<string> TunnelAddresses => If.Addresses.Select(EndCollector.StripPrefix).Where(x => !IsLinkLocal(x));
            public bool OwnsAddress(string address) => Host.LocalAddresses.Any(x => SameAddress(x, address));
        }

        private static void Keys(Side a, Side b, PeerFacts pa, List<JudgedFinding> r)
        {
            if (pa != null || b.If.PublicKey == null) return;
            var peers = a.If.Peers.Count == 0 ? "none" : string.Join(", ", a.If.Peers.Select(p => p.PublicKey));
            r.Add(New(a, null, Severity.Error, nameof(Cause.KeyMismatch), "WGD-PEER-KEY",
                $"{a.Name} has no peer with the public key of {b.Name}: its handshakes are rejected.",
                new[] { $"{b.Name} has the public key {b.If.PublicKey} (live)", $"{a.Name} has peers: {peers} (live)" },
                $"Set the peer's PublicKey on {a.Host.HostName} to {b.If.PublicKey} (live and in the configuration).", false));
        }

        private static void AllowedIps(Side a, Side b, PeerFacts pa, List<JudgedFinding> r)
        {
            var missing = b.TunnelAddresses.Where(x => !pa.AllowedIPs.Any(p => Contains(p, x))).ToList();
            if (missing.Count == 0) return;
            r.Add(New(a, pa, Severity.Error, nameof(Cause.AllowedIpsMismatch), "WGD-PEER-ALLOWEDIPS",
                $"{a.Name} drops what {b.Name} sends from its tunnel address: the peer's AllowedIPs do not cover {string.Join(", ", missing)}.",
                new[] { $"{b.Name} has the tunnel addresses {string.Join(", ", b.If.Addresses)} (live)",
                        $"{a.Name} allows from that peer only {(pa.AllowedIPs.Count == 0 ? "(none)" : string.Join(", ", pa.AllowedIPs))} (live)" },
                $"Add {string.Join(", ", missing.Select(x => x + (x.Contains(":") ? "/128" : "/32")))} to the AllowedIPs of the peer {pa.PublicKey} on {a.Host.HostName}.", false));
        }

        private static void Ports(Side a, Side b, PeerFacts pa, List<JudgedFinding> r)
        {
            if (pa.Endpoint == null || !SplitEndpoint(pa.Endpoint, out var addr, out var port)) return;
            if (!b.OwnsAddress(addr) || b.If.ListenPort <= 0 || port == b.If.ListenPort) return;
            r.Add(New(a, pa, Severity.Error, nameof(Cause.PortMismatch), "WGD-PEER-PORT",
                $"{a.Name} sends to port {port}, and {b.Name} listens on {b.If.ListenPort}.",
                new[] { $"{a.Name} endpoint for the peer: {pa.Endpoint} (live)", $"{b.Name} listens on UDP {b.If.ListenPort} (live) at {addr}" },
                $"Set the peer's Endpoint on {a.Host.HostName} to {FormatEndpoint(addr, b.If.ListenPort)}.", false));
        }

        private static void Nat(Side a, Side b, PeerFacts pa, PeerFacts pb, List<JudgedFinding> r)
        {
            // a sees b at pa.Endpoint; when that is none of b's addresses, b is behind a NAT (it initiates: it has an endpoint for a)
            if (pa.Endpoint == null || pa.LatestHandshake == 0 || pb.Endpoint == null || pb.PersistentKeepalive > 0) return;
            if (!SplitEndpoint(pa.Endpoint, out var addr, out _) || b.OwnsAddress(addr)) return;
            var f = New(b, pb, Severity.Warning, "NoKeepaliveBehindNat", "WGD-PEER-NAT-KEEPALIVE",
                $"{b.Name} is behind a NAT and sends no keepalive: once it is idle the NAT forgets the mapping and {a.Name} can no longer reach it.",
                new[] { $"{a.Name} sees the peer at {pa.Endpoint} (live, from the latest handshake), which is not an address of {b.Host.HostName} ({string.Join(", ", b.Host.LocalAddresses.Where(x => !IsLinkLocal(x) && x != "127.0.0.1" && x != "::1"))})",
                        $"{b.Name} has no PersistentKeepalive for the peer {pb.PublicKey} (live)" },
                $"Set PersistentKeepalive = {RepairKeepalive} for the peer {pb.PublicKey} on {b.Host.HostName} (live and in the configuration): Repair-WgIssue does it.", true);
            f.Finding.RepairData = new[] { "PublicKey=" + pb.PublicKey, "Keepalive=" + RepairKeepalive.ToString(CultureInfo.InvariantCulture) };
            r.Add(f);
        }

        private static bool Path(Side a, Side b, PeerFacts pa, CaptureFacts ca, CaptureFacts cb, DateTime start, DateTime end, List<JudgedFinding> r)
        {
            if (pa == null || pa.Endpoint == null) return false;
            var sendEnd = end - TimeSpan.FromMilliseconds(500);
            // what this end starts (responses only answer the other end's initiations)
            var sent = ca.Packets.Where(p => p.Outgoing && p.Type != "Response" && SameEndpoint(p.Remote, pa.Endpoint) && p.TimeUtc >= start && p.TimeUtc <= sendEnd).ToList();
            if (sent.Count == 0) return false;
            var arrived = cb.Packets.Where(p => !p.Outgoing && p.TimeUtc >= start && p.TimeUtc <= end).ToList();
            string probe = ca.Probe != null ? $" ({ca.Probe})" : "";
            if (arrived.Count == 0)
            {
                SplitEndpoint(pa.Endpoint, out var addr, out _);
                // Sent to a NAT's mapping of the other end, which sends no keepalive: the NAT forgot the mapping. That is
                // the cause (and the repair); the drop on the way is what it does, not a filter of its own.
                var nat = b.OwnsAddress(addr) ? null : r.FirstOrDefault(x => x.Finding.Cause == "NoKeepaliveBehindNat" && x.Finding.Peer == a.If.PublicKey && x.Finding.Role == b.Host.HostName);
                if (nat != null)
                {
                    nat.Finding.Severity = Severity.Error.ToString();
                    nat.Finding.Summary += $" Now it cannot: what {a.Name} sends to the mapping {pa.Endpoint} never arrives.";
                    nat.Finding.Evidence = nat.Finding.Evidence.Concat(new[]
                    {
                        $"{a.Host.HostName} sent {Count(sent)} from UDP {ca.ListenPort} to {pa.Endpoint} between {T(start)} and {T(end)} UTC{probe} (capture on {a.Host.HostName})",
                        $"{b.Host.HostName} received nothing on UDP {cb.ListenPort} in the same window (capture on {b.Host.HostName}): the NAT in front of it no longer maps {pa.Endpoint}",
                    }).ToArray();
                    return true;
                }
                r.Add(New(a, pa, Severity.Error, nameof(Cause.UpstreamFilter), "WGD-PEER-UPSTREAM",
                    $"Packets leave {a.Name} for {pa.Endpoint} and never arrive at {b.Name}: something between the two hosts drops them.",
                    new[] { $"{a.Host.HostName} sent {Count(sent)} from UDP {ca.ListenPort} to {pa.Endpoint} between {T(start)} and {T(end)} UTC{probe} (capture on {a.Host.HostName})",
                            $"{b.Host.HostName} received nothing on UDP {cb.ListenPort} in the same window (capture on {b.Host.HostName}, before its firewall)",
                            $"segment: from the uplink of {a.Host.HostName} ({string.Join(", ", Uplink(a))}) to the uplink of {b.Host.HostName} ({(b.OwnsAddress(addr) ? addr : string.Join(", ", Uplink(b)))}): a router, NAT, cloud security group or ISP filter between them" },
                    $"Allow UDP {cb.ListenPort} to {pa.Endpoint} on the path between the two hosts (cloud security group, provider firewall, router).", false));
                return true;
            }
            var answers = cb.Packets.Where(p => p.Outgoing && p.TimeUtc >= start && p.TimeUtc <= sendEnd && arrived.Any(x => x.Remote == p.Remote)).ToList();
            if (answers.Count == 0) return false;
            var back = ca.Packets.Where(p => !p.Outgoing && SameEndpoint(p.Remote, pa.Endpoint) && p.TimeUtc >= start && p.TimeUtc <= end).ToList();
            if (back.Count > 0) return false;
            r.Add(New(a, pa, Severity.Error, "ReturnPathBlocked", "WGD-PEER-RETURN",
                $"{b.Name} answers and the answers never arrive back at {a.Name}: the return path drops them.",
                new[] { $"{a.Host.HostName} sent {Count(sent)} to {pa.Endpoint}{probe}; {b.Host.HostName} received {Count(arrived)} from {string.Join(", ", arrived.Select(x => x.Remote).Distinct())}",
                        $"{b.Host.HostName} sent {Count(answers)} back to {string.Join(", ", answers.Select(x => x.Remote).Distinct())} between {T(start)} and {T(end)} UTC",
                        $"{a.Host.HostName} received nothing from {pa.Endpoint} in the same window (capture on {a.Host.HostName}, before its firewall)",
                        $"segment: from the uplink of {b.Host.HostName} back to the uplink of {a.Host.HostName}: a stateful filter or a NAT between them drops the replies" },
                $"Allow the replies from UDP {cb.ListenPort} back to {a.Host.HostName} on the path between the hosts (a stateful rule for the return direction, or the NAT's UDP mapping).", false));
            return true;
        }

        private static IEnumerable<string> Uplink(Side s)
            => s.Host.LocalAddresses.Where(x => !IsLinkLocal(x) && x != "127.0.0.1" && x != "::1" && !s.TunnelAddresses.Contains(x));

        private static string Count(List<PacketFact> ps)
            => ps.Count + " packet" + (ps.Count == 1 ? "" : "s") + " (" + string.Join(", ", ps.GroupBy(p => p.Type).Select(g => g.Count() + " " + g.Key)) + ")";

        private static string T(DateTime t) => t.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);

        private static JudgedFinding New(Side s, PeerFacts p, Severity sev, string cause, string id, string summary, string[] evidence, string remediation, bool canRepair)
            => new JudgedFinding
            {
                OnPeer = s.OnPeer,
                Finding = new Finding
                {
                    Id = id,
                    Severity = sev.ToString(),
                    Interface = s.If.Name,
                    Peer = p?.PublicKey,
                    Cause = cause,
                    Summary = summary,
                    Evidence = evidence,
                    Remediation = remediation,
                    CanRepair = canRepair,
                    Role = s.Host.HostName,
                },
            };

        public static bool SplitEndpoint(string endpoint, out string address, out int port)
        {
            address = null; port = 0;
            if (string.IsNullOrEmpty(endpoint)) return false;
            int colon = endpoint.LastIndexOf(':');
            if (colon <= 0) return false;
            address = endpoint.Substring(0, colon).Trim('[', ']');
            return int.TryParse(endpoint.Substring(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port);
        }

        private static string FormatEndpoint(string address, int port) => (address.Contains(":") ? "[" + address + "]" : address) + ":" + port.ToString(CultureInfo.InvariantCulture);

        private static bool SameEndpoint(string x, string y)
            => SplitEndpoint(x, out var ax, out var px) && SplitEndpoint(y, out var ay, out var py) && px == py && SameAddress(ax, ay);

        private static bool SameAddress(string x, string y)
        {
            int pct = x.IndexOf('%'); if (pct > 0) x = x.Substring(0, pct);
            pct = y.IndexOf('%'); if (pct > 0) y = y.Substring(0, pct);
            if (!IPAddress.TryParse(x, out var a) || !IPAddress.TryParse(y, out var b)) return string.Equals(x, y, StringComparison.OrdinalIgnoreCase);
            if (a.IsIPv4MappedToIPv6) a = a.MapToIPv4();
            if (b.IsIPv4MappedToIPv6) b = b.MapToIPv4();
            return a.Equals(b);
        }

        private static bool IsLinkLocal(string address)
        {
            int pct = address.IndexOf('%'); if (pct > 0) address = address.Substring(0, pct);
            if (!IPAddress.TryParse(address, out var a)) return false;
            if (a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6) return a.IsIPv6LinkLocal;
            var b = a.GetAddressBytes();
            return b[0] == 169 && b[1] == 254;
        }

        /// <summary>True when <paramref name="address"/> lies in the prefix (CIDR; a bare address is a host prefix).</summary>
        public static bool Contains(string prefix, string address) => address?.IndexOf('/') < 0 && Config.IpPrefix.Covers(prefix, address);
    }
}
