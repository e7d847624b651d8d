using System;
using System.Collections.Generic;
using System.Linq;
using WgTroubleshoot.Config;

namespace WgTroubleshoot.Lint
{
    /// <summary>
    /// Checks the two ends of one tunnel against each other: each side's [Peer] for the other carries the other
    /// side's public key (derived from its PrivateKey with X25519), the preshared keys agree, an Endpoint port is
    /// the other side's ListenPort, and each side's AllowedIPs for the other cover the other side's Address.
    /// A pair that matches gives no findings.
    /// </summary>
    internal static class PeerConfigComparer
    {
        /// <summary>The pairwise rules (the checks are the methods below; they need both files at once).</summary>
        internal static readonly LintRule[] Rules =
        {
            new LintRule("WG2001", "PeerKeyMismatch", Severity.Error, Cause.KeyMismatch, null),
            new LintRule("WG2002", "PeerMissing", Severity.Error, Cause.KeyMismatch, null),
            new LintRule("WG2003", "PresharedKeyMismatch", Severity.Error, Cause.PresharedKeyMismatch, null),
            new LintRule("WG2004", "PortMismatch", Severity.Error, Cause.PortMismatch, null),
            new LintRule("WG2005", "AllowedIpsMissAddress", Severity.Error, Cause.AllowedIpsMismatch, null),
            new LintRule("WG2006", "NoEndpointEitherSide", Severity.Error, Cause.ConfigError, null),
        };

        private static LintRule Rule(string id) => Rules.First(r => r.Id == id);

        /// <summary>The findings for the pair; each is about the file named in its File property.</summary>
        internal static IList<ConfigFinding> Compare(LintFile a, LintFile b)
        {
            var findings = new List<ConfigFinding>();
            void Add(string id, LintFile file, LintHit hit) => findings.Add(Guard(Rule(id).ToFinding(file, hit, file == a ? b : a), a, b));
            void AddLint(string id, LintFile file)
            {
                var rule = ConfigLinter.Rule(id);
                foreach (var hit in rule.Check(file)) findings.Add(Guard(rule.ToFinding(file, hit, file == a ? b : a), a, b));
            }

            foreach (var f in new[] { a, b }.Where(f => f.Config == null)) AddLint("WG1001", f);
            if (findings.Count > 0) return findings;
            foreach (var f in new[] { a, b }) AddLint("WG1003", f);

            var sides = new[] { (X: a, Y: b, P: PeerFor(a, b)), (X: b, Y: a, P: PeerFor(b, a)) };
            foreach (var (x, y, p) in sides)
            {
                var yKey = y.Config.PublicKey;
                if (p == null)
                {
                    var hosts = y.Config.Address.Select(c => IpPrefix.Parse(c).AsHost().ToString()).ToArray();
                    Add("WG2002", x, new LintHit(x.InterfaceLine,
                        $"{Name(x)} has no [Peer] for {Name(y)}: no PublicKey equals {Name(y)}'s public key{(yKey == null ? "" : " " + yKey)} and no peer's AllowedIPs cover {Name(y)}'s Address, so {Name(x)} drops {Name(y)}'s handshakes.",
                        $"Add to {Name(x)}: [Peer] PublicKey = {yKey ?? "<public key of " + Name(y) + ">"} AllowedIPs = {(hosts.Length > 0 ? string.Join(", ", hosts) : "<" + Name(y) + "'s tunnel address>/32")}"));
                    continue;
                }
                if (yKey != null && p.PublicKey != yKey)
                    Add("WG2001", x, new LintHit(p.LineOf("PublicKey"),
                        $"{Name(x)} has the wrong key for {Name(y)}: {x.Label(p)} has PublicKey {(x.IsSecret(p.PublicKey) ? "(a private key of this file)" : p.PublicKey)}, but {Name(y)}'s PrivateKey gives the public key {yKey}. {Name(y)} cannot complete a handshake with {Name(x)}.",
                        $"PublicKey = {yKey} (line {p.LineOf("PublicKey")} of {Name(x)})", p.PublicKey));
            }

            var pa = sides[0].P;
            var pb = sides[1].P;
            if (pa != null && pb != null && pa.PresharedKeyValue != pb.PresharedKeyValue)
            {
                var (has, hasPeer, lacks, lacksPeer) = pa.HasPresharedKey ? (a, pa, b, pb) : (b, pb, a, pa);
                bool both = pa.HasPresharedKey && pb.HasPresharedKey;
                Add("WG2003", a, new LintHit(pa.LineOf("PresharedKey"),
                    both ? $"The PresharedKey of {Name(a)}'s {a.Label(pa)} and of {Name(b)}'s {b.Label(pb)} differ (the keys are not shown). Handshakes fail although the public keys match."
                         : $"Only {Name(has)}'s {has.Label(hasPeer)} has a PresharedKey; {Name(lacks)}'s {lacks.Label(lacksPeer)} has none. Both ends must have the same one, or neither. Handshakes fail although the public keys match.",
                    both ? $"Copy the PresharedKey line of {Name(a)} line {pa.LineOf("PresharedKey")} over the one in {Name(b)} line {pb.LineOf("PresharedKey")} (or write one new `wg genpsk` value on both ends)"
                         : $"Copy the PresharedKey line of {Name(has)} line {hasPeer.LineOf("PresharedKey")} into {Name(lacks)}'s [Peer] at line {lacksPeer.Line}, or delete it from {Name(has)}",
                    pa.PublicKey));
            }

            foreach (var (x, y, p) in sides)
            {
                if (p?.EndpointPort == null) continue;
                var listen = y.Config.ListenPort.GetValueOrDefault();
                if (listen == p.EndpointPort) continue;
                if (listen == 0)
                    Add("WG2004", y, new LintHit(y.Config.LineOf("ListenPort") ?? y.InterfaceLine,
                        $"{Name(x)}'s {x.Label(p)} sends to {Name(y)} at port {p.EndpointPort} (Endpoint {p.Endpoint}), but {Name(y)} has no ListenPort and listens on a random port.",
                        $"ListenPort = {p.EndpointPort} under [Interface] of {Name(y)}"));
                else
                    Add("WG2004", x, new LintHit(p.LineOf("Endpoint"),
                        $"{Name(x)}'s {x.Label(p)} sends to port {p.EndpointPort} (Endpoint {p.Endpoint}), but {Name(y)} listens on ListenPort {listen} (line {y.Config.LineOf("ListenPort")}).",
                        $"Endpoint = {HostForEndpoint(p.EndpointHost)}:{listen}", p.PublicKey));
            }

            if (pa != null && pb != null && pa.Endpoint == null && pb.Endpoint == null)
            {
                var (client, server, clientPeer) = a.Config.ListenPort.GetValueOrDefault() == 0 || b.Config.ListenPort.GetValueOrDefault() != 0 ? (a, b, pa) : (b, a, pb);
                Add("WG2006", client, new LintHit(clientPeer.Line,
                    $"Neither end has an Endpoint for the other, so neither can start a handshake: the tunnel never comes up.",
                    $"Endpoint = <{Name(server)}'s public address>:{(server.Config.ListenPort.GetValueOrDefault() != 0 ? server.Config.ListenPort.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : "<its ListenPort>")} in {Name(client)}'s {client.Label(clientPeer)}",
                    clientPeer.PublicKey));
            }

            foreach (var (x, y, p) in sides)
            {
                if (p == null) continue;
                var allowed = ConfigLinter.Entries(p).Select(e => e.Prefix.Network()).ToArray();
                var missing = y.Config.Address.Select(c => IpPrefix.Parse(c).AsHost())
                    .Where(h => !allowed.Any(n => n.Contains(h))).Select(h => h.ToString()).ToArray();
                if (missing.Length == 0) continue;
                Add("WG2005", x, new LintHit(p.LineOf("AllowedIPs"),
                    $"{Name(x)}'s {x.Label(p)} does not allow {Name(y)}'s address{(missing.Length == 1 ? "" : "es")} {string.Join(", ", missing)}: nothing is routed there, and packets from {(missing.Length == 1 ? "it" : "them")} are dropped (\"unallowed src IP\").",
                    $"AllowedIPs = {string.Join(", ", p.AllowedIPs.Concat(missing))}", p.PublicKey));
            }
            return findings;
        }

        /// <summary>
        /// The [Peer] of <paramref name="x"/> meant for <paramref name="y"/>: the one with y's public key; else the
        /// one whose AllowedIPs cover y's Address; else x's only peer. Null when none fits.
        /// </summary>
        private static WgConfigPeer PeerFor(LintFile x, LintFile y)
        {
            var peers = x.Config.Peers;
            var key = y.Config.PublicKey;
            var byKey = key == null ? null : peers.FirstOrDefault(p => p.PublicKey == key);
            if (byKey != null) return byKey;
            var hosts = y.Config.Address.Select(c => IpPrefix.Parse(c).AsHost()).ToArray();
            var byAddress = peers.Where(p => ConfigLinter.Entries(p).Any(e => hosts.Any(h => e.Prefix.Network().Contains(h)))).ToArray();
            if (byAddress.Length == 1) return byAddress[0];
            return peers.Length == 1 ? peers[0] : null;
        }

        /// <summary>A finding about a pair must not show the secrets of either file.</summary>
        private static ConfigFinding Guard(ConfigFinding f, LintFile a, LintFile b)
        {
            f.Message = a.Clean(f.Message, b);
            f.Fix = a.Clean(f.Fix, b);
            if (a.IsSecret(f.Peer) || b.IsSecret(f.Peer)) f.Peer = null;
            return f;
        }

        private static string Name(LintFile f) => System.IO.Path.GetFileName(f.Path);

        private static string HostForEndpoint(string host) => host != null && host.IndexOf(':') >= 0 ? "[" + host + "]" : host;
    }
}
