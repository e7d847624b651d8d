using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using WgTroubleshoot.Snapshot;

namespace WgTroubleshoot.Checks
{
    /// <summary>FirewallBlocksPort / TcpOnlyFirewallRule: a host firewall backend drops inbound UDP on the listen port.</summary>
    public sealed class FirewallInputCheck : CheckBase
    {
        public FirewallInputCheck() : base("FirewallInput", SourceNames.WgState, SourceNames.Netfilter) { }

        public override IEnumerable<Finding> Evaluate(CheckContext c)
        {
            var port = c.Device?.Interface.ListenPort;
            if (!port.HasValue) yield break;
            bool hurts = c.IsServer || c.Handshakes.Values.Any(h => h.Status != nameof(HandshakeStatus.Healthy) && h.Status != nameof(HandshakeStatus.Idle));
            var wire = c.Traces.Where(t => t.RemoteEndpoint != null && t.Verdict == nameof(TrafficVerdict.InitiationsUnanswered) && t.InitiationsIn > 0)
                .Select(t => $"On the wire: {t.InitiationsIn} handshake initiations from {t.RemoteEndpoint} arrived in {c.TraceSeconds} s and none was answered.").ToList();
            foreach (var st in c.FirewallStatuses.Where(s => s.Verdict == FirewallVerdict.Blocked))
            {
                bool tcpOnly = st.TcpOnlyRule != null;
                var f = c.NewFinding(tcpOnly ? "WGD201" : "WGD200", hurts ? Severity.Error : Severity.Warning,
                    tcpOnly ? Cause.TcpOnlyFirewallRule : Cause.FirewallBlocksPort,
                    tcpOnly
                        ? $"{st.Backend} allows TCP {port} but not UDP {port}: WireGuard is UDP only, so handshakes never arrive."
                        : $"{st.Backend} drops inbound UDP {port}, WireGuard's listen port on {c.Name}.");
                f.Evidence = new[] { $"{st.Backend}: UDP {port} {st.Verdict} by: {st.DecidingRule}" }
                    .Concat(tcpOnly ? new[] { $"TCP rule for the port: {st.TcpOnlyRule}" } : new string[0])
                    .Concat(hurts ? new string[0] : new[] { "Every peer is healthy or idle now: replies to this side's own handshakes pass connection tracking, but a peer that starts the handshake is dropped." })
                    .Concat(wire).ToArray();
                f.Remediation = $"Add-WgFirewallRule -Interface {c.Name}" + (st.Backend == "nftables" || st.Backend.StartsWith("ip", StringComparison.Ordinal) ? $" -Backend {st.Backend}" : "");
                f.CanRepair = true;
                f.RepairData = new[] { "Interface=" + c.Name, "Port=" + port.Value.ToString(CultureInfo.InvariantCulture), "Backend=" + st.Backend };
                yield return f;
            }
        }
    }

    /// <summary>KeyMismatch: initiations arrive and are never answered while no local firewall drops them.</summary>
    public sealed class KeyMismatchCheck : CheckBase
    {
        public KeyMismatchCheck() : base("KeyMismatch", SourceNames.WgState, SourceNames.Capture, SourceNames.Netfilter) { }

        public override IEnumerable<Finding> Evaluate(CheckContext c)
        {
            var iface = c.Device?.Interface;
            if (iface == null) yield break;
            foreach (var t in c.Traces.Where(t => t.RemoteEndpoint != null && t.Verdict == nameof(TrafficVerdict.InitiationsUnanswered) && t.InitiationsIn > 0))
            {
                var f = c.NewFinding("WGD400", Severity.Error, Cause.KeyMismatch,
                    $"Handshake initiations from {t.RemoteEndpoint} reach {iface.Name} and are not answered, and no local firewall drops them: WireGuard does not accept the initiator's key.",
                    c.Peer(t.Peer) != null ? t.Peer : null);
                f.Evidence = new[]
                {
                    $"tcpdump, {c.TraceSeconds} s on UDP {iface.ListenPort}: {t.InitiationsIn} initiations in, {t.ResponsesOut} responses out, {t.DataIn} data packets in.",
                    "The host firewall allows the port (" + string.Join("; ", c.FirewallStatuses.Select(s => s.Backend + " " + s.Verdict)) + ").",
                    "The initiator's public key is not any [Peer] PublicKey of this interface, or this interface's public key is not the one the initiator has.",
                };
                f.Remediation = $"Compare both ends: Compare-WgPeerConfig -Path {c.Config?.Path ?? "<this.conf>"}, <other-side.conf>; then put the client's real public key (wg pubkey < its private key) in this side's [Peer] PublicKey.";
                f.FoldSummary = "their handshake initiations arrive and are not answered: WireGuard does not accept the initiators' keys.";
                yield return f;
            }
        }
    }
}
