using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using WgTroubleshoot.Diagnosis;
using WgTroubleshoot.Remoting;

namespace WgTroubleshoot.Commands
{
    // Findings of other hosts (PSComputerName, after Invoke-Command or Invoke-WgDiagnosis -PeerSession) are
    // repaired on their own host over the session given for it; NoKeepaliveBehindNat is repaired here.
    public sealed partial class RepairWgIssueCommand
    {
        /// <summary>Sessions to the hosts the findings came from: a finding with a PSComputerName is repaired on its host over the session with that ComputerName.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public PSSession[] Session { get; set; }

        private readonly List<KeyValuePair<PSSession, PSObject>> _remote = new List<KeyValuePair<PSSession, PSObject>>();
        private readonly List<FindingRef> _keepalive = new List<FindingRef>();

        /// <summary>Takes the findings that are not for the local repairer; true when <paramref name="o"/> was taken.</summary>
        private bool TakeSpecial(PSObject o)
        {
            var host = o?.Properties["PSComputerName"]?.Value?.ToString();
            if (!string.IsNullOrEmpty(host))
            {
                var s = Session?.FirstOrDefault(x => string.Equals(x.ComputerName, host, StringComparison.OrdinalIgnoreCase));
                if (s == null)
                {
                    WriteError(new ErrorRecord(new InvalidOperationException(
                        $"The finding is from the host '{host}' and is repaired there only: give a session to it with -Session (no session with that ComputerName was given)."),
                        RemoteErrorIds.NoSessionForHost, ErrorCategory.InvalidArgument, host));
                    return true;
                }
                _remote.Add(new KeyValuePair<PSSession, PSObject>(s, o));
                return true;
            }
            var f = FindingRef.From(o);
            if (f != null && f.Cause == "NoKeepaliveBehindNat") { _keepalive.Add(f); return true; }
            return false;
        }

        private void RepairSpecial()
        {
            foreach (var f in _keepalive)
            {
                var bad = KeepaliveRemedy.Validate(f.Interface, f.Data("peer"), f.Data("keepalive"), out int seconds);
                if (bad != null)
                {
                    WriteError(new ErrorRecord(new ArgumentException($"The NoKeepaliveBehindNat finding cannot be repaired: {bad}."), "WgUnsupportedInput", ErrorCategory.InvalidArgument, f.Interface));
                    continue;
                }
                var action = KeepaliveRemedy.ActionText(f.Interface, f.Data("peer"), seconds);
                if (!ShouldProcess($"{f.Interface}: NoKeepaliveBehindNat", action)) continue;
                var result = new KeepaliveRemedy(Runner).Apply(f.Id, f.Interface, f.Data("peer"), seconds);
                if (result.Error != null && !result.Verified) WriteWarning($"{f.Interface} NoKeepaliveBehindNat: {result.Error}");
                WriteObject(result);
            }
            foreach (var g in _remote.GroupBy(x => x.Key))
            {
                var session = g.Key;
                var findings = new List<PSObject>();
                foreach (var kv in g)
                {
                    var f = FindingRef.From(kv.Value);
                    string what = f == null ? "(not a finding)" : $"{session.ComputerName}: {f.Interface}: {f.Cause}";
                    if (f == null) { WriteError(new ErrorRecord(new ArgumentException("Repair-WgIssue takes findings from Invoke-WgDiagnosis."), "WgUnsupportedInput", ErrorCategory.InvalidArgument, kv.Value)); continue; }
                    if (!ShouldProcess(what, $"repair on {session.ComputerName} over its session: " + (f.CanRepair ? f.Remediation : "(not repairable: reported only)"))) continue;
                    findings.Add(Plain(kv.Value));
                }
                if (findings.Count == 0) continue;
                try
                {
                    var output = RemoteScripts.Run(session.Runspace, RemoteScripts.Repair, new Dictionary<string, object> { ["Finding"] = findings.ToArray() },
                        TimeSpan.FromMinutes(5), _stop.Token, out var errors);
                    foreach (var o in output)
                    {
                        if (o == null) continue;
                        if (o.Properties["PSComputerName"] == null) o.Properties.Add(new PSNoteProperty("PSComputerName", session.ComputerName));
                        WriteObject(o);
                    }
                    foreach (var e in errors)
                    {
                        if (e is ErrorRecord er) WriteError(new ErrorRecord(er, new RemoteException($"{session.ComputerName}: {er.Exception?.Message}")));
                        else WriteError(new ErrorRecord(new RemoteException($"{session.ComputerName}: {e}"), RemoteErrorIds.RemoteFailed, ErrorCategory.InvalidResult, session.ComputerName));
                    }
                }
                catch (Exception ex) when (!(ex is PipelineStoppedException))
                {
                    var message = $"The repair on '{session.ComputerName}' failed: {ex.Message}";
                    WriteError((ex is TimeoutException
                        ? new WgException(ErrorIds.RemoteUnreachable, ErrorCategory.ConnectionError, message, session.ComputerName, ex)
                        : new WgException(ErrorIds.RemoteFailed, ErrorCategory.InvalidResult, message, session.ComputerName, ex)).ToErrorRecord());
                }
            }
        }

        /// <summary>The finding's own properties only (no PSComputerName, so that the other host repairs it as its own).</summary>
        private static PSObject Plain(PSObject o)
        {
            var p = new PSObject();
            foreach (var name in new[] { "Id", "Severity", "Interface", "Peer", "PeerName", "Cause", "Summary", "Evidence", "Remediation", "CanRepair", "Role", "RepairData" })
            {
                var v = o.Properties[name]?.Value;
                if (v is PSObject po) v = po.BaseObject;
                if (v is System.Collections.IEnumerable e && !(v is string)) v = e.Cast<object>().Select(x => x?.ToString()).ToArray();
                p.Properties.Add(new PSNoteProperty(name, v));
            }
            return p;
        }
    }
}
