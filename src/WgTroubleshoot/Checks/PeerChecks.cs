using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using WgTroubleshoot.Diagnosis;
using WgTroubleshoot.Firewall;
using WgTroubleshoot.Snapshot;

namespace WgTroubleshoot.Checks
{
    /// <summary>StaleEndpoint and AddressFamilyMismatch: what configured endpoint names resolve to now, against the live endpoint.</summary>
    public sealed class EndpointCheck : CheckBase
    {
        public EndpointCheck() : base("Endpoint", SourceNames.WgState, SourceNames.Config, SourceNames.Names, SourceNames.Routes) { }

        public override IEnumerable<Finding> Evaluate(CheckContext c)
        {
            if (c.Config == null || c.Device == null) yield break;
            var host = c.Host;
            bool routes4 = host.FamilyRoute(false) != null, routes6 = host.FamilyRoute(true) != null;
            var checker = new EndpointChecker(
                h => (host.Name(h)?.Addresses ?? new string[0]).Select(a => IPAddress.TryParse(a, out var ip) ? ip : null).Where(a => a != null).ToArray(),
                a => host.Routes.Lookup(a.ToString())?.Reachable ?? false,
                family => family == System.Net.Sockets.AddressFamily.InterNetworkV6 ? routes6 : routes4);
            foreach (var cp in c.Config.Peers.Where(p => EndpointChecker.IsHostName(p.EndpointHost)))
            {
                var live = c.Peer(cp.PublicKey);
                if (live == null) continue;
                var s = checker.Check(c.Name, c.Config.SaveConfig, cp, live);
                var resolution = host.Name(cp.EndpointHost);
                if (resolution?.Error != null) s.Reason += $" (resolver: {resolution.Error})";
                if (s.AddressFamilyWarning != null)
                {
                    // The root cause (an Error) when the peer does not work: the name gives only a family this host cannot route.
                    c.Handshakes.TryGetValue(cp.PublicKey, out var fh);
                    bool down = fh == null || fh.OneWay || (fh.Status != nameof(HandshakeStatus.Healthy) && fh.Status != nameof(HandshakeStatus.Idle));
                    var f = c.NewFinding("WGD302", down ? Severity.Error : Severity.Warning, Cause.AddressFamilyMismatch, s.AddressFamilyWarning, cp.PublicKey);
                    f.PeerName = cp.Name ?? f.PeerName;
                    f.Evidence = new[] { "Resolved: " + string.Join(", ", s.ResolvedAddresses) };
                    f.Remediation = "Publish both A and AAAA records, or use a host name of the family this host can reach.";
                    yield return f;
                }
                if (s.Status != nameof(EndpointState.Drifted)) continue;
                c.Handshakes.TryGetValue(cp.PublicKey, out var hs);
                // A fresh handshake proves nothing about the last two minutes: a probe that got no answer decides.
                bool broken = hs == null || hs.Status != nameof(HandshakeStatus.Healthy) || hs.OneWay;
                var g = c.NewFinding("WGD301", broken ? Severity.Error : Severity.Info, Cause.StaleEndpoint,
                    $"'{cp.EndpointHost}' now resolves to {string.Join(", ", s.ResolvedAddresses)}, but WireGuard still sends to {s.LiveEndpoint ?? "(none)"}: the dynamic-DNS address changed and WireGuard never re-resolves it.", cp.PublicKey);
                g.PeerName = cp.Name ?? g.PeerName;
                g.Evidence = new[] { s.Reason, hs != null ? "Handshake: " + hs.Reason : "No handshake data." };
                g.Remediation = $"Update-WgEndpoint -Interface {c.Name} -PublicKey {cp.PublicKey}" + (broken ? "" : " -Force");
                g.CanRepair = true;
                // proven one-way by the liveness probe (a fresh session, data out, nothing back): safe without -Force
                bool oneWay = hs != null && hs.Status == nameof(HandshakeStatus.Healthy) && hs.OneWay;
                g.RepairData = oneWay ? new[] { "Interface=" + c.Name, "PublicKey=" + cp.PublicKey, "OneWay=true" } : new[] { "Interface=" + c.Name, "PublicKey=" + cp.PublicKey };
                yield return g;
            }
        }
    }

    /// <summary>PresharedKeyMismatch and EndpointUnreachable: a peer this side tries to reach and no session forms.</summary>
    public sealed class PeerHandshakeCheck : CheckBase
    {
        public PeerHandshakeCheck() : base("PeerHandshake", SourceNames.WgState) { }

        public override IEnumerable<Finding> Evaluate(CheckContext c)
        {
            foreach (var h in c.Handshakes.Values)
            {
                if (h.Status != nameof(HandshakeStatus.NeverEstablished) && h.Status != nameof(HandshakeStatus.Stale)) continue;
                var trace = c.Traces.FirstOrDefault(t => t.Peer == h.Peer || (h.Endpoint != null && t.RemoteEndpoint == h.Endpoint));
                var evidence = new List<string> { "Handshake: " + h.Reason };
                if (trace != null)
                    evidence.Add($"On the wire ({c.TraceSeconds} s): {trace.InitiationsOut} initiations out, {trace.ResponsesIn} responses in, {trace.DataIn} data in, {trace.DataOut} data out.");
                if (trace != null && trace.ResponsesIn > 0 && trace.DataIn == 0)
                {
                    var p = c.NewFinding("WGD401", Severity.Error, Cause.PresharedKeyMismatch,
                        $"{h.Endpoint} answers the handshake, yet no session forms: the preshared keys of the two ends differ.", h.Peer);
                    p.Evidence = evidence.ToArray();
                    p.Remediation = "Set the same PresharedKey on both ends (Compare-WgPeerConfig shows whether they differ, never the key).";
                    p.FoldSummary = "their endpoints answer the handshake, yet no session forms: the preshared keys differ.";
                    yield return p;
                    continue;
                }
                var f = c.NewFinding("WGD300", Severity.Error, Cause.EndpointUnreachable, $"The peer at {h.Endpoint ?? "(no endpoint)"} does not answer this side's handshakes.", h.Peer);
                f.Evidence = evidence.Concat(new[] { "Nothing comes back: the endpoint address or port is wrong, the other side's firewall or an upstream (cloud) filter drops UDP, or the other side does not have this side's public key." }).ToArray();
                f.Remediation = $"Check the Endpoint (Get-WgConfig -Interface {c.Name}) against the server's address and ListenPort; on the server run Invoke-WgDiagnosis (firewall, trace), and Compare-WgPeerConfig on both files.";
                f.FoldSummary = "do not answer this side's handshakes (wrong endpoint, a filter on the way, or keys the other side does not have).";
                yield return f;
            }
        }
    }

    /// <summary>AllowedIpsMismatch: a fresh session, traffic goes out and nothing comes back.</summary>
    public sealed class OneWayTrafficCheck : CheckBase
    {
        public OneWayTrafficCheck() : base("OneWayTraffic", SourceNames.WgState) { }

        public override IEnumerable<Finding> Evaluate(CheckContext c)
        {
            foreach (var h in c.Handshakes.Values.Where(h => h.Status == nameof(HandshakeStatus.Healthy) && h.OneWay))
            {
                var f = c.NewFinding("WGD410", Severity.Warning, Cause.AllowedIpsMismatch, $"Traffic to {h.Name ?? h.Peer} goes out and nothing comes back, although the handshake is fresh.", h.Peer);
                f.Evidence = new[] { h.Reason };
                f.Remediation = "The other end drops what it receives: compare AllowedIPs of both ends (Invoke-WgDiagnosis -PeerConfigPath <other.conf>), and check forwarding and NAT on the server.";
                f.FoldSummary = "traffic goes out and nothing comes back, although the handshakes are fresh.";
                yield return f;
            }
        }
    }

    /// <summary>UpstreamFilter (Info): a server's client that never connected (folded when many).</summary>
    public sealed class NeverConnectedCheck : CheckBase
    {
        public NeverConnectedCheck() : base("NeverConnected", SourceNames.WgState) { }

        public override IEnumerable<Finding> Evaluate(CheckContext c)
        {
            if (!c.IsServer) yield break;
            bool nothing = c.Traces.Count > 0 && c.Traces.All(t => t.RemoteEndpoint == null);
            var port = c.Device?.Interface.ListenPort;
            foreach (var h in c.Handshakes.Values.Where(h => h.Status == nameof(HandshakeStatus.AwaitingPeer)))
            {
                var f = c.NewFinding("WGD901", Severity.Info, Cause.UpstreamFilter,
                    $"{h.Name ?? h.Peer} has never connected" + (nothing ? $" and nothing arrived on UDP {port} in {c.TraceSeconds} s." : "."), h.Peer);
                // "no local firewall blocks" only when the firewall was read; else CheckNotRun says what was not judged
                bool firewallUnknown = c.Host.Source(SourceNames.Netfilter)?.IsUnknown == true;
                f.Evidence = new[] { h.Reason, firewallUnknown ? "The local firewall could not be read, so it is not ruled out (see the CheckNotRun finding)." : FirewallEvaluator.UpstreamNote };
                f.Remediation = "If this client should be connected: check its Endpoint, and the cloud security group or router port forwarding in front of this host.";
                f.FoldSummary = "have never connected" + (nothing ? $", and nothing arrived on UDP {port} in {c.TraceSeconds} s." : ".");
                yield return f;
            }
        }
    }
}
