using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;

namespace WgTroubleshoot.Firewall
{
    /// <summary>One status per active backend, plus the notes that need the whole picture.</summary>
    public static class FirewallStatusBuilder
    {
        public static List<FirewallStatus> Build(IEnumerable<BackendSnapshot> snapshots, FirewallQuery q)
        {
            var result = snapshots.Where(s => s.Active).Select(s => FirewallEvaluator.Evaluate(s, q)).ToList();
            if (result.Count == 0)
            {
                result.Add(new FirewallStatus
                {
                    Backend = "none", Active = false, Interface = q.Interface, Port = q.Port, InboundAllowed = true,
                    Verdict = FirewallVerdict.Allowed, DecidingRule = "no active host firewall", ForwardAllowed = true,
                    Notes = new string[0],
                });
            }
            if (result.All(r => r.Verdict == FirewallVerdict.Allowed))
                foreach (var r in result) r.Notes = r.Notes.Concat(new[] { FirewallEvaluator.UpstreamNote }).ToArray();
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
                foreach (var r in result) r.Notes = r.Notes.Concat(new[] { "Windows Firewall is not inspected yet." }).ToArray();
            return result;
        }
    }
}
