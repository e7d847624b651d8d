using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using WgTroubleshoot.Config;
using WgTroubleshoot.Keys;

namespace WgTroubleshoot.Lint
{
    /// <summary>
    /// Lints wg-quick configuration files. One instance is one run: files are linted in the order given and
    /// each file is also checked against the files before it (a ListenPort used twice).
    /// The rules are the <see cref="Rules"/> table; each rule is one small method below.
    /// </summary>
    internal sealed class ConfigLinter
    {
        private readonly List<LintFile> _seen = new List<LintFile>();

        /// <summary>Every rule, in Id order. Ids are stable: a rule is never renumbered, only added.</summary>
        internal static readonly LintRule[] Rules =
        {
            new LintRule("WG1001", "ParseError", Severity.Error, Cause.ConfigError, ParseError, needsConfig: false),
            new LintRule("WG1002", "MalformedKey", Severity.Error, Cause.ConfigError, MalformedKey, needsConfig: false),
            new LintRule("WG1003", "MissingPrivateKey", Severity.Error, Cause.ConfigError, MissingPrivateKey),
            new LintRule("WG1004", "OwnPublicKeyAsPeer", Severity.Error, Cause.KeyMismatch, OwnPublicKeyAsPeer),
            new LintRule("WG1005", "DuplicatePeer", Severity.Error, Cause.ConfigError, DuplicatePeer),
            new LintRule("WG1006", "AllowedIpsDuplicate", Severity.Error, Cause.AllowedIpsMismatch, AllowedIpsDuplicate),
            new LintRule("WG1007", "AllowedIpsNested", Severity.Info, Cause.None, AllowedIpsNested),
            new LintRule("WG1008", "ServerPeerNotHostRoute", Severity.Warning, Cause.AllowedIpsMismatch, ServerPeerNotHostRoute),
            new LintRule("WG1009", "AllowedIpsHostBits", Severity.Warning, Cause.AllowedIpsMismatch, AllowedIpsHostBits),
            new LintRule("WG1010", "CannotInitiate", Severity.Error, Cause.ConfigError, CannotInitiate),
            new LintRule("WG1011", "NoKeepaliveBehindNat", Severity.Info, Cause.None, NoKeepaliveBehindNat),
            new LintRule("WG1012", "FileReadableByOthers", Severity.Warning, Cause.None, FileReadableByOthers, needsConfig: false),
            new LintRule("WG1013", "SaveConfigWithHostName", Severity.Warning, Cause.StaleEndpoint, SaveConfigWithHostName),
            new LintRule("WG1014", "PeerWithoutAllowedIps", Severity.Warning, Cause.AllowedIpsMismatch, PeerWithoutAllowedIps),
            new LintRule("WG1015", "ListenPortInUse", Severity.Error, Cause.ConfigError, ListenPortInUse),
            new LintRule("WG1016", "MissingAddress", Severity.Warning, Cause.ConfigError, MissingAddress),
            new LintRule("WG1017", "MtuOutOfRange", Severity.Warning, Cause.MtuBlackhole, MtuOutOfRange),
            new LintRule("WG1018", "DnsWithoutResolvconf", Severity.Info, Cause.None, DnsWithoutResolvconf),
            new LintRule("WG1019", "TableOffWithDefaultRoute", Severity.Warning, Cause.ConfigError, TableOffWithDefaultRoute),
            new LintRule("WG1020", "PrivateKeyAsPeerKey", Severity.Error, Cause.KeyMismatch, PrivateKeyAsPeerKey),
            new LintRule("WG1021", "ReadDifferently", Severity.Warning, Cause.ConfigError, ReadDifferently),
        };

        /// <summary>The rule with that Id.</summary>
        internal static LintRule Rule(string id) => Rules.First(r => r.Id == id);

        /// <summary>The findings for one file (and for its ListenPort against the files linted before it).</summary>
        internal IEnumerable<ConfigFinding> Lint(LintFile file)
        {
            var earlier = _seen.ToArray();
            if (_seen.Any(f => string.Equals(f.Path, file.Path, StringComparison.Ordinal))) return Array.Empty<ConfigFinding>();
            _seen.Add(file);
            file.Earlier = earlier;
            var findings = new List<ConfigFinding>();
            foreach (var rule in Rules)
            {
                if (rule.NeedsConfig && file.Config == null) continue;
                foreach (var hit in FoldPeers(file, Fold(file, rule.Check(file)))) findings.Add(rule.ToFinding(file, hit));
            }
            return findings;
        }

        /// <summary>How many folded items a message names before "…" (all of them are in Items).</summary>
        internal const int FoldShown = 5;

        /// <summary>
        /// Repeated hits of one rule for one peer become one hit: the first hit's text, the count, the first few
        /// lines, and every item (line and message) in Items. Hits a rule folded itself pass unchanged.
        /// </summary>
        private static IEnumerable<LintHit> Fold(LintFile f, IEnumerable<LintHit> hits)
        {
            var list = hits.ToList();
            if (list.Count < 2) return list;
            var result = new List<LintHit>();
            var byPeer = new Dictionary<string, List<LintHit>>(StringComparer.Ordinal);
            var order = new List<object>();
            foreach (var h in list)
            {
                if (h.Peer == null || h.Items != null) { order.Add(h); continue; }
                if (!byPeer.TryGetValue(h.Peer, out var g)) { g = new List<LintHit>(); byPeer[h.Peer] = g; order.Add(g); }
                g.Add(h);
            }
            foreach (var o in order)
            {
                if (o is LintHit single) { result.Add(single); continue; }
                var g = (List<LintHit>)o;
                if (g.Count == 1) { result.Add(g[0]); continue; }
                var first = g[0];
                var lines = g.Select(h => h.Line ?? 0).ToArray();
                var more = g.Count - 1;
                result.Add(new LintHit(first.Line,
                    $"{first.Message} The same applies {more} more time{(more == 1 ? "" : "s")} for this peer (line{(more == 1 ? "" : "s")} {string.Join(", ", lines.Skip(1).Take(FoldShown).Select(l => l.ToString(CultureInfo.InvariantCulture)))}{(more > FoldShown ? ", …" : "")}); every one is in Items.",
                    first.Fix, first.Peer)
                {
                    Severity = first.Severity,
                    Cause = first.Cause,
                    Items = g.Select(h => $"line {h.Line}: {h.Message}").ToArray(),
                    Lines = lines,
                });
            }
            return result;
        }

        /// <summary>How many peers must share one rule's finding before they are folded into one finding.</summary>
        internal const int PeerFoldThreshold = 2;

        /// <summary>
        /// Hits of one rule for several peers (one hit each) become one hit that names the count and the first few
        /// peers, with every peer's public key in Peers and every line in Lines and Items: a hub with 10,000 clients
        /// that share one omission gives one finding, not 10,000. Hits about no peer, and hits already folded for
        /// one peer, pass unchanged.
        /// </summary>
        private static IEnumerable<LintHit> FoldPeers(LintFile f, IEnumerable<LintHit> hits)
        {
            var list = hits as IList<LintHit> ?? hits.ToList();
            var single = list.Where(h => h.Peer != null && h.Items == null).ToList();
            if (single.Select(h => h.Peer).Distinct(StringComparer.Ordinal).Count() < PeerFoldThreshold) return list;
            var first = single[0];
            var names = f.Config?.Peers.Where(p => p.PublicKey != null).GroupBy(p => p.PublicKey, StringComparer.Ordinal)
                            .ToDictionary(g => g.Key, g => f.Label(g.First()), StringComparer.Ordinal)
                        ?? new Dictionary<string, string>(StringComparer.Ordinal);
            string Who(LintHit h) => names.TryGetValue(h.Peer, out var n) ? n : (f.IsSecret(h.Peer) ? "[Peer]" : WgKey.Short(h.Peer));
            var shown = single.Take(FoldShown).Select(Who).ToList();
            var more = single.Count - shown.Count;
            var folded = new LintHit(first.Line,
                $"{single.Count.ToString(CultureInfo.InvariantCulture)} peers have this finding ({string.Join(", ", shown)}{(more > 0 ? $" and {more.ToString(CultureInfo.InvariantCulture)} more" : "")}); the first: {first.Message} Every peer's public key is in Peers, every line in Lines and Items.",
                first.Fix)
            {
                Severity = first.Severity,
                Cause = first.Cause,
                Items = single.Select(h => $"line {h.Line}: {h.Message}").ToArray(),
                Lines = single.Select(h => h.Line ?? 0).ToArray(),
                Peers = single.Select(h => h.Peer).ToArray(),
            };
            var result = new List<LintHit>();
            bool emitted = false;
            foreach (var h in list)
            {
                if (h.Peer != null && h.Items == null) { if (!emitted) { result.Add(folded); emitted = true; } continue; }
                result.Add(h);
            }
            return result;
        }

        /// <summary>Lints one file on its own (no other files to compare ports with).</summary>
        internal static IList<ConfigFinding> LintOne(LintFile file) => new ConfigLinter().Lint(file).ToList();

        // ---- the rules -------------------------------------------------------------------------------

        private static IEnumerable<LintHit> ParseError(LintFile f)
        {
            if (f.ParseErrors == null || f.ParseErrors.Count == 0) yield break;
            var keyLines = MalformedKeyLines(f); // WG1002 says it better
            var errors = f.ParseErrors.Where(e => !keyLines.Contains(e.Line)).ToList();
            foreach (var ex in errors)
                yield return new LintHit(ex.Line, $"wg or wg-quick rejects line {ex.Line}: {ex.Problem} The other rules run once the file parses.",
                    $"Correct line {ex.Line} as described, then run this check again.");
        }

        private static IEnumerable<LintHit> MalformedKey(LintFile f)
        {
            foreach (var (line, key) in MalformedKeys(f))
            {
                var fix = key == "PrivateKey" ? "PrivateKey = <output of `wg genkey`> (then give the peers the new `wg pubkey`)"
                    : key == "PublicKey" ? "PublicKey = <the other end's public key: `wg pubkey` of its private key, or `wg show <interface> public-key` there>"
                    : "PresharedKey = <output of `wg genpsk`, written identically on both ends>";
                yield return new LintHit(line, $"{key} on line {line} is not a WireGuard key (base64 of 32 bytes: 44 characters ending in '='); wg rejects the file. The value is not shown.", fix);
            }
        }

        private static IEnumerable<LintHit> MissingPrivateKey(LintFile f)
        {
            var c = f.Config;
            if (c.HasPrivateKey || f.IsFragment) yield break;
            // wg-quick(8): "PostUp = wg set %i private-key /path/to/private-key" loads the key after wg setconf.
            if (HookAnalysis.SetsPrivateKey(c.PostUp)) yield break;
            var preUp = HookAnalysis.FirstSettingPrivateKey(c.PreUp);
            var line = c.LineOf("PrivateKey") ?? f.InterfaceLine;
            if (preUp != null)
            {
                var v = f.ToolsVersion;
                if (v >= WgToolsVersion.HashInHooks) yield break; // PreUp runs on the new interface and wg addconf keeps its key
                var preLine = c.LineOf("PreUp") ?? line;
                yield return new LintHit(preLine, v < WgToolsVersion.PreUpAfterInterface
                        ? $"PreUp sets the private key (`{preUp}`), but wireguard-tools {v} runs PreUp before it creates the interface: the command fails and so does wg-quick up. (From {WgToolsVersion.PreUpAfterInterface} PreUp runs after; from {WgToolsVersion.HashInHooks} the key also survives.)"
                        : $"PreUp sets the private key (`{preUp}`), but wireguard-tools {v} then configures the interface with `wg setconf`, which replaces the key with none: the interface has no key and completes no handshake. (From {WgToolsVersion.HashInHooks} wg-quick uses `wg addconf`, which keeps it.)",
                    "Set the key in PostUp instead: PostUp = wg set %i private-key <file>");
                yield break;
            }
            yield return new LintHit(line, c.PrivateKeyIsZero
                    ? "The PrivateKey is all zeros, which wg treats as no key: the interface comes up without a key and cannot complete any handshake."
                    : "[Interface] has no PrivateKey: the interface comes up without a key and cannot complete any handshake.",
                "PrivateKey = <output of `wg genkey`> under [Interface] (and give the peers its `wg pubkey`), or PostUp = wg set %i private-key <file>");
        }

        private static IEnumerable<LintHit> OwnPublicKeyAsPeer(LintFile f)
        {
            var own = f.Config.PublicKey;
            if (own == null) yield break;
            foreach (var p in f.Config.Peers.Where(p => p.PublicKey == own))
                yield return new LintHit(p.LineOf("PublicKey"),
                    $"{f.Label(p)} has this interface's own public key {own} (derived from its PrivateKey): the other end's public key belongs here, so no handshake can succeed.",
                    "PublicKey = <the other end's public key: `wg pubkey` of its private key, or `wg show <interface> public-key` there>", p.PublicKey);
        }

        private static IEnumerable<LintHit> PrivateKeyAsPeerKey(LintFile f)
        {
            foreach (var p in f.Config.Peers.Where(p => p.PublicKey == f.Config.PrivateKeyValue))
                yield return new LintHit(p.LineOf("PublicKey"),
                    $"The PublicKey of {f.Label(p)} is this interface's own PRIVATE key. Treat that key as leaked if the file was ever shared.",
                    "PublicKey = <the other end's public key>; and if the file was shared: a new PrivateKey from `wg genkey`, with its `wg pubkey` given to the peers");
        }

        private static IEnumerable<LintHit> DuplicatePeer(LintFile f)
        {
            var peers = f.Config.Peers;
            var firstOf = new Dictionary<string, int>(StringComparer.Ordinal);
            var sections = new Dictionary<string, List<WgConfigPeer>>(StringComparer.Ordinal);
            for (int i = 0; i < peers.Length; i++)
            {
                if (!firstOf.ContainsKey(peers[i].PublicKey)) { firstOf[peers[i].PublicKey] = i; sections[peers[i].PublicKey] = new List<WgConfigPeer>(); }
                sections[peers[i].PublicKey].Add(peers[i]);
            }
            for (int i = 0; i < peers.Length; i++)
            {
                var first = firstOf[peers[i].PublicKey];
                if (first == i) continue;
                var union = sections[peers[i].PublicKey].SelectMany(p => p.AllowedIPs).Distinct().ToArray();
                yield return new LintHit(peers[i].Line,
                    $"{f.Label(peers[i])} repeats the PublicKey of the [Peer] at line {peers[first].Line}. wg makes them one peer: the later section's AllowedIPs replace the earlier one's, its other settings are merged.",
                    $"Merge the sections into one [Peer] with AllowedIPs = {JoinOrNone(union)}", peers[i].PublicKey);
            }
        }

        private static IEnumerable<LintHit> AllowedIpsDuplicate(LintFile f)
        {
            foreach (var o in Overlaps(f).Where(o => o.Earlier.SameNetwork(o.Later)))
            {
                var remaining = o.EarlierPeer.AllowedIPs.Where(c => !IpPrefix.Parse(c).SameNetwork(o.Earlier)).ToArray();
                yield return new LintHit(o.LaterLine,
                    $"{o.Later.Network()} is in the AllowedIPs of both {f.Label(o.EarlierPeer)} and {f.Label(o.LaterPeer)}. An address belongs to one peer only: wg setconf gives it to the later peer and takes it from the earlier one, which then gets no traffic for it and drops what it sends from it.",
                    $"Decide which peer owns {o.Later.Network()} and remove it from the other, e.g. for {f.Label(o.EarlierPeer)}: AllowedIPs = {JoinOrNone(remaining)}",
                    o.LaterPeer.PublicKey);
            }
        }

        private static IEnumerable<LintHit> AllowedIpsNested(LintFile f)
        {
            foreach (var o in Overlaps(f).Where(o => !o.Earlier.SameNetwork(o.Later)))
            {
                bool earlierWide = o.Earlier.Length < o.Later.Length;
                var (wide, widePeer, narrow, narrowPeer, line) = earlierWide
                    ? (o.Earlier, o.EarlierPeer, o.Later, o.LaterPeer, o.LaterLine)
                    : (o.Later, o.LaterPeer, o.Earlier, o.EarlierPeer, o.EarlierLine);
                yield return new LintHit(line,
                    $"{narrow.Network()} of {f.Label(narrowPeer)} lies inside {wide.Network()} of {f.Label(widePeer)}. WireGuard routes by longest prefix: {narrow.Network()} goes to the first, the rest of {wide.Network()} to the second.",
                    $"Nothing, if that split is intended; otherwise remove {narrow.Network()} from {f.Label(narrowPeer)}.",
                    narrowPeer.PublicKey);
            }
        }

        private static IEnumerable<LintHit> ServerPeerNotHostRoute(LintFile f)
        {
            if (!f.IsServer) yield break;
            foreach (var p in f.Config.Peers.Where(p => p.Endpoint == null))
            {
                var nets = Entries(p).Where(e => !e.Prefix.IsHost).ToList();
                if (nets.Count == 0) continue;
                var (prefix, line) = nets[0];
                var host = prefix.HasHostBits ? prefix.AsHost().ToString() : "<its tunnel address>/" + prefix.MaxLength;
                if (nets.Count == 1)
                {
                    yield return new LintHit(line,
                        $"{f.Label(p)} has no Endpoint, so it is a client that connects to this server, but its AllowedIPs {prefix} is a whole network: every address in it is routed to this one client, and another client in that range conflicts. This is right only for a site-to-site peer that routes that network behind it.",
                        $"AllowedIPs = {host} (the client's Address), unless it is a site-to-site gateway", p.PublicKey);
                    continue;
                }
                yield return new LintHit(line,
                    $"{f.Label(p)} has no Endpoint, so it is a client that connects to this server, but {nets.Count} of its AllowedIPs are whole networks ({string.Join(", ", nets.Take(FoldShown).Select(n => n.Prefix.ToString()))}{(nets.Count > FoldShown ? ", …" : "")}; all are in Items): every address in them is routed to this one client, and another client in those ranges conflicts. This is right only for a site-to-site peer that routes those networks behind it.",
                    $"AllowedIPs = {host} (the client's Address), unless it is a site-to-site gateway", p.PublicKey)
                {
                    Items = nets.Select(n => n.Prefix.ToString()).ToArray(),
                    Lines = nets.Select(n => n.Line).ToArray(),
                };
            }
        }

        private static IEnumerable<LintHit> AllowedIpsHostBits(LintFile f)
        {
            foreach (var p in f.Config.Peers)
            {
                var bad = Entries(p).Where(e => e.Prefix.HasHostBits).ToList();
                if (bad.Count == 0) continue;
                var (prefix, line) = bad[0];
                if (bad.Count == 1)
                {
                    yield return new LintHit(line,
                        $"AllowedIPs {prefix} of {f.Label(p)} has host bits set after /{prefix.Length}: wg warns \"AllowedIP has nonzero host part\" and uses {prefix.Network()}.",
                        $"Write {prefix.Network()} instead of {prefix} (or {prefix.AsHost()} if one address was meant)", p.PublicKey);
                    continue;
                }
                yield return new LintHit(line,
                    $"{bad.Count} AllowedIPs of {f.Label(p)} have host bits set after the prefix length ({string.Join(", ", bad.Take(FoldShown).Select(b => b.Prefix + " → " + b.Prefix.Network()))}{(bad.Count > FoldShown ? ", …" : "")}; all are in Items): wg warns \"AllowedIP has nonzero host part\" and uses the networks.",
                    $"Write {prefix.Network()} instead of {prefix}, and likewise for the others", p.PublicKey)
                {
                    Items = bad.Select(b => b.Prefix.ToString()).ToArray(),
                    Lines = bad.Select(b => b.Line).ToArray(),
                };
            }
        }

        private static IEnumerable<LintHit> CannotInitiate(LintFile f)
        {
            var c = f.Config;
            if (f.IsFragment || c.Peers.Length == 0 || c.ListenPort.GetValueOrDefault() != 0 || c.Peers.Any(p => p.Endpoint != null)) yield break;
            if (HookAnalysis.SetsListenPortOrEndpoint(c.PreUp.Concat(c.PostUp))) yield break;
            yield return new LintHit(f.InterfaceLine,
                "No peer has an Endpoint and there is no ListenPort: this side cannot start a handshake, and listens on a random port no peer can know, so the tunnel never comes up.",
                "Endpoint = <server address>:<its ListenPort> in the server's [Peer] (a client), or ListenPort = 51820 under [Interface] (a server)");
        }

        private static IEnumerable<LintHit> NoKeepaliveBehindNat(LintFile f)
        {
            if (f.Config.ListenPort.GetValueOrDefault() != 0) yield break;
            foreach (var p in f.Config.Peers.Where(p => p.Endpoint != null && p.PersistentKeepalive.GetValueOrDefault() == 0))
                yield return new LintHit(p.LineOf("Endpoint"),
                    $"{f.Label(p)} is reached through Endpoint {p.Endpoint} from a side without a ListenPort, which is usually a client behind NAT. Without PersistentKeepalive the NAT mapping expires when the tunnel is idle, and the other side cannot reach this one until it sends again.",
                    "PersistentKeepalive = 25", p.PublicKey);
        }

        private static IEnumerable<LintHit> FileReadableByOthers(LintFile f)
        {
            var mode = f.Environment.FileMode(f.Path);
            if (mode == null || (mode.Value & 0x3F) == 0) yield break;
            yield return new LintHit(null,
                $"The file is readable or writable by group or others (mode {Convert.ToString(mode.Value & 0xFFF, 8).PadLeft(4, '0')}); it holds the private key. wg-quick warns about this too.",
                $"chmod 600 '{f.Path}'");
        }

        private static IEnumerable<LintHit> SaveConfigWithHostName(LintFile f)
        {
            if (!f.Config.SaveConfig) yield break;
            var named = f.Config.Peers.Where(p => p.EndpointHost != null && !IsIpLiteral(p.EndpointHost)).ToArray();
            if (named.Length == 0) yield break;
            yield return new LintHit(f.Config.LineOf("SaveConfig"),
                $"SaveConfig = true rewrites this file from the live state on `wg-quick down`, which replaces the Endpoint host name{(named.Length == 1 ? "" : "s")} {string.Join(", ", named.Select(p => p.EndpointHost))} with the address resolved at the time: a dynamic-DNS endpoint is frozen at an address that will go stale.",
                "SaveConfig = false (or delete the line)");
        }

        private static IEnumerable<LintHit> PeerWithoutAllowedIps(LintFile f)
        {
            foreach (var p in f.Config.Peers.Where(p => p.AllowedIPs.Length == 0))
                yield return new LintHit(p.Line,
                    $"{f.Label(p)} has no AllowedIPs: nothing is routed to it and everything it sends is dropped, even after a handshake.",
                    p.Endpoint == null ? "AllowedIPs = <the peer's tunnel address>/32" : "AllowedIPs = <the tunnel subnet or the networks behind the peer> (0.0.0.0/0, ::/0 for all traffic)",
                    p.PublicKey);
        }

        private static IEnumerable<LintHit> ListenPortInUse(LintFile f)
        {
            int port = f.Config.ListenPort.GetValueOrDefault();
            if (port == 0) yield break;
            var other = f.Earlier.FirstOrDefault(e => e.Config != null && e.Config.ListenPort == port);
            if (other == null) yield break;
            var used = new HashSet<int>(f.Earlier.Where(e => e.Config?.ListenPort != null).Select(e => e.Config.ListenPort.Value));
            int free = port;
            while (used.Contains(free) && free < 65535) free++;
            yield return new LintHit(f.Config.LineOf("ListenPort"),
                $"ListenPort {port} is also the ListenPort of {other.Path} (line {other.Config.LineOf("ListenPort")}): two interfaces on one host cannot bind the same UDP port, so the second one fails to come up (\"Address already in use\").",
                $"ListenPort = {free} (and update the Endpoint port on this interface's peers)");
        }

        private static IEnumerable<LintHit> MissingAddress(LintFile f)
        {
            if (f.Config.Address.Length > 0 || f.IsFragment || HookAnalysis.AddsAddress(f.Config.PreUp.Concat(f.Config.PostUp))) yield break;
            yield return new LintHit(f.InterfaceLine,
                "[Interface] has no Address: wg-quick brings the interface up without a tunnel address, so this host has no address to send from or be reached at inside the tunnel (fine only for a file used with `wg setconf`).",
                "Address = <this host's tunnel address>/<prefix length>, e.g. Address = 10.0.0.2/32");
        }

        private static IEnumerable<LintHit> MtuOutOfRange(LintFile f)
        {
            var mtu = f.Config.Mtu;
            if (mtu == null) yield break;
            var line = f.Config.LineOf("MTU");
            if (mtu < 1280)
                yield return new LintHit(line, $"MTU {mtu} is below 1280, the IPv6 minimum: IPv6 cannot run inside the tunnel, and small packets waste bandwidth.", "MTU = 1280 (or delete the line to let wg-quick choose)") { Cause = Cause.None };
            else if (mtu > 1440)
                yield return new LintHit(line, $"MTU {mtu} plus WireGuard's overhead (60 bytes over IPv4, 80 over IPv6) exceeds a 1500-byte path: full-size packets are fragmented or, where ICMP is filtered, silently dropped (an MTU blackhole).", "MTU = 1420 (1500 minus 80)");
            else if (mtu > 1420)
                yield return new LintHit(line, $"MTU {mtu} fits a 1500-byte path over IPv4 (60 bytes overhead) but not over IPv6 (80 bytes): with an IPv6 endpoint full-size packets do not pass.", "MTU = 1420 (fits both)") { Severity = Severity.Info };
        }

        private static IEnumerable<LintHit> DnsWithoutResolvconf(LintFile f)
        {
            if (f.Config.Dns.Length == 0 || f.Environment.IsWindows || f.Environment.CommandExists("resolvconf")) yield break;
            yield return new LintHit(f.Config.LineOf("DNS"),
                "DNS is set but resolvconf is not installed on this machine: wg-quick fails with \"resolvconf: command not found\" and takes the interface down again.",
                "apt install openresolv (or your distribution's resolvconf / systemd-resolved's resolvconf link), or delete the DNS line");
        }

        private static IEnumerable<LintHit> TableOffWithDefaultRoute(LintFile f)
        {
            // wg-quick compares Table case-sensitively: only "off" turns routes off ("Off" is a parse error).
            if (f.Config.Table != "off") yield break;
            if (HookAnalysis.AddsRoutes(f.Config.PreUp.Concat(f.Config.PostUp))) yield break;
            var defaults = f.Config.Peers.SelectMany(Entries).Where(e => e.Prefix.Length == 0).Select(e => e.Prefix.ToString()).Distinct().ToArray();
            if (defaults.Length == 0) yield break;
            yield return new LintHit(f.Config.LineOf("Table"),
                $"Table = off stops wg-quick from adding routes, so AllowedIPs {string.Join(", ", defaults)} route nothing through the tunnel unless PostUp adds the routes itself.",
                "Delete the 'Table = off' line, or add the routes in PostUp (e.g. PostUp = ip route add 0.0.0.0/1 dev %i; ip route add 128.0.0.0/1 dev %i)");
        }

        private static IEnumerable<LintHit> ReadDifferently(LintFile f)
        {
            var peers = f.Config.Peers;
            foreach (var n in f.Notes)
            {
                var peer = n.Peer ?? PeerAt(peers, n.Line)?.PublicKey;
                yield return new LintHit(n.Line, n.Message, n.Fix, peer) { Severity = n.Warning ? Severity.Warning : Severity.Info, Cause = n.Warning ? Cause.ConfigError : Cause.None };
            }
        }

        /// <summary>The [Peer] whose section holds <paramref name="line"/>, or null (peers are in line order).</summary>
        private static WgConfigPeer PeerAt(WgConfigPeer[] peers, int line)
        {
            int lo = 0, hi = peers.Length - 1, found = -1;
            while (lo <= hi)
            {
                int mid = (lo + hi) / 2;
                if (peers[mid].Line <= line) { found = mid; lo = mid + 1; } else hi = mid - 1;
            }
            return found < 0 ? null : peers[found];
        }

        // ---- shared helpers ---------------------------------------------------------------------------

        private sealed class Overlap
        {
            internal WgConfigPeer EarlierPeer, LaterPeer;
            internal IpPrefix Earlier, Later;
            internal int EarlierLine, LaterLine;
        }

        private sealed class Entry
        {
            internal IpPrefix Prefix, Net;
            internal byte[] Bytes;
            internal int PeerIndex, Line, Order;
        }

        /// <summary>
        /// The AllowedIPs entries of two different peers that share addresses (peers with the same key excluded:
        /// WG1005), found as wg's prefix trie would: the entries sorted by network and prefix length, then one
        /// walk with the chain of enclosing prefixes on a stack, O(n log n). Each entry is paired with the same
        /// network held by an earlier peer (WG1006) or else with its nearest enclosing prefix of another peer
        /// (WG1007, the one that longest-prefix routing splits it from).
        /// </summary>
        private static IEnumerable<Overlap> Overlaps(LintFile f)
        {
            if (f.OverlapCache is List<Overlap> cached) return cached;
            var peers = f.Config.Peers;
            var entries = new List<Entry>();
            for (int i = 0; i < peers.Length; i++)
                foreach (var (prefix, line) in Entries(peers[i]))
                {
                    var net = prefix.Network();
                    entries.Add(new Entry { Prefix = prefix, Net = net, Bytes = net.AddressBytes, PeerIndex = i, Line = line, Order = entries.Count });
                }
            entries.Sort((a, b) =>
            {
                int c = a.Bytes.Length.CompareTo(b.Bytes.Length);
                if (c != 0) return c;
                for (int k = 0; k < a.Bytes.Length; k++) { c = a.Bytes[k].CompareTo(b.Bytes[k]); if (c != 0) return c; }
                c = a.Net.Length.CompareTo(b.Net.Length);
                return c != 0 ? c : a.Order.CompareTo(b.Order);
            });
            var result = new List<Overlap>();
            var stack = new List<Entry>();
            foreach (var e in entries)
            {
                while (stack.Count > 0 && !stack[stack.Count - 1].Net.Contains(e.Net)) stack.RemoveAt(stack.Count - 1);
                var key = peers[e.PeerIndex].PublicKey;
                Entry same = null, enclosing = null;
                for (int k = stack.Count - 1; k >= 0; k--)
                {
                    var s = stack[k];
                    if (peers[s.PeerIndex].PublicKey == key) continue;
                    if (s.Net.SameNetwork(e.Net)) { if (same == null || s.PeerIndex < same.PeerIndex) same = s; continue; }
                    enclosing = s;
                    break;
                }
                var other = same ?? enclosing;
                if (other != null)
                {
                    var (early, late) = other.PeerIndex < e.PeerIndex ? (other, e) : (e, other);
                    result.Add(new Overlap
                    {
                        EarlierPeer = peers[early.PeerIndex], LaterPeer = peers[late.PeerIndex],
                        Earlier = early.Prefix, Later = late.Prefix, EarlierLine = early.Line, LaterLine = late.Line,
                    });
                }
                stack.Add(e);
            }
            result.Sort((a, b) => a.LaterLine != b.LaterLine ? a.LaterLine.CompareTo(b.LaterLine) : a.EarlierLine.CompareTo(b.EarlierLine));
            f.OverlapCache = result;
            return result;
        }

        /// <summary>A peer's AllowedIPs entries with their lines.</summary>
        internal static IEnumerable<(IpPrefix Prefix, int Line)> Entries(WgConfigPeer p)
        {
            for (int i = 0; i < p.AllowedIPs.Length; i++)
                yield return (IpPrefix.Parse(p.AllowedIPs[i]), i < p.AllowedIPsLines.Length ? p.AllowedIPsLines[i] : p.Line);
        }

        /// <summary>Key lines wg would reject as keys, read from the lines themselves (the parser stops at the first error).</summary>
        private static IEnumerable<(int Line, string Key)> MalformedKeys(LintFile f)
        {
            bool inPeer = false, inInterface = false;
            for (int i = 0; i < f.Document.Lines.Count; i++)
            {
                var line = f.Document.Lines[i];
                if (line.IsSectionHeader) { inPeer = line.IsSection("Peer"); inInterface = line.IsSection("Interface"); continue; }
                string key = inInterface && line.HasKey("PrivateKey") ? "PrivateKey"
                    : inPeer && line.HasKey("PublicKey") ? "PublicKey"
                    : inPeer && line.HasKey("PresharedKey") ? "PresharedKey" : null;
                if (key != null && line.Value.Length > 0 && !WgKey.IsValid(line.Value)) yield return (i + 1, key);
            }
        }

        private static HashSet<int> MalformedKeyLines(LintFile f) => new HashSet<int>(MalformedKeys(f).Select(k => k.Line));

        internal static bool IsIpLiteral(string host) => WgConfigParser.TryParseIPv4(host, out _) || WgConfigParser.TryParseIPv6(host, out _);

        internal static string JoinOrNone(IEnumerable<string> items)
        {
            var list = items.ToArray();
            return list.Length == 0 ? "(nothing left: remove the line)" : string.Join(", ", list);
        }
    }
}
