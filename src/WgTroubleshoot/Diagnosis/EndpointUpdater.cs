using System;
using WgTroubleshoot.Changes;
using WgTroubleshoot.Native;
using WgTroubleshoot.State;

namespace WgTroubleshoot.Diagnosis
{
    /// <summary>The change of Update-WgEndpoint, also used by Repair-WgIssue.</summary>
    public static class EndpointUpdater
    {
        /// <summary>
        /// Points a drifted peer at the address its name resolves to now (reresolve-dns.sh's rule: only when the
        /// handshake is older than 135 s, unless forced). Returns the change record, or null when
        /// <paramref name="shouldProcess"/> declined.
        /// </summary>
        public static ChangeRecord Apply(INativeRunner runner, EndpointStatus s, bool force, Func<string, string, bool> shouldProcess, Action<string> verbose)
        {
            var target = $"{s.Interface} peer {s.Name ?? s.Peer}";
            const string action = "Re-resolve endpoint";
            if (!EndpointChecker.ShouldUpdate(s, force))
            {
                var why = s.Status == nameof(EndpointState.Drifted)
                    ? $"drifted, but the latest handshake is {Format.Age(s.HandshakeAge)} (within 135 s): left alone; use -Force to update anyway"
                    : $"{s.Status}: {s.Reason}";
                verbose?.Invoke($"{target}: {why}");
                return ChangeTransaction.Unchanged(target, action, $"endpoint {s.LiveEndpoint ?? "(none)"}; {why}");
            }
            var set = new NativeCommand(WgStateReader.WgTool, "set", s.Interface, "peer", s.Peer, "endpoint", s.RecommendedEndpoint);
            if (!shouldProcess(set.CommandLine, $"Point {target} at {s.RecommendedEndpoint} ('{s.Host}' resolves there now; it sends to {s.LiveEndpoint ?? "(none)"})"))
                return null;
            Privilege.Demand("Updating a WireGuard endpoint");
            var tx = new ChangeTransaction(runner, action);
            var undo = s.LiveEndpoint == null ? new NativeCommand[0]
                : new[] { new NativeCommand(WgStateReader.WgTool, "set", s.Interface, "peer", s.Peer, "endpoint", s.LiveEndpoint) };
            tx.Apply(set, undo);
            return tx.ToRecord(target, action, $"endpoint {s.LiveEndpoint ?? "(none)"}", $"endpoint {s.RecommendedEndpoint} ('{s.Host}')");
        }
    }
}
