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
    // repaired on their own host over the session given for it: ShouldProcess is asked here, then the findings
    // go as JSON to RemoteEndpoint.RepairJson there, which runs the same repair as here (RemedyCatalog,
    // one Transaction, a new snapshot verifies), and the results come back as JSON.
    public sealed partial class RepairWgIssueCommand
    {
        /// <summary>Sessions to the hosts the findings came from: a finding with a PSComputerName is repaired on its host over the session with that ComputerName.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public PSSession[] Session { get; set; }

        private readonly List<KeyValuePair<PSSession, PSObject>> _remote = new List<KeyValuePair<PSSession, PSObject>>();

        /// <summary>Takes the findings of other hosts; true when <paramref name="o"/> was taken.</summary>
        private bool TakeRemote(PSObject o)
        {
            var host = o?.Properties["PSComputerName"]?.Value?.ToString();
            if (string.IsNullOrEmpty(host)) return false;
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

        private void RepairRemote()
        {
            foreach (var g in _remote.GroupBy(x => x.Key))
            {
                var session = g.Key;
                var findings = new List<FindingRef>();
                foreach (var kv in g)
                {
                    var f = FindingRef.From(kv.Value);
                    if (f == null) { WriteError(new ErrorRecord(new ArgumentException("Repair-WgIssue takes findings from Invoke-WgDiagnosis."), "WgUnsupportedInput", ErrorCategory.InvalidArgument, kv.Value)); continue; }
                    // the same catalog names the action here; the other host validates the finding again before anything runs
                    var plan = Remedies.RemedyCatalog.Plan(f, out _);
                    var action = plan != null ? plan.Display : "(not repairable: reported only)";
                    if (!ShouldProcess($"{session.ComputerName}: {f.Interface}: {f.Cause}", $"repair on {session.ComputerName} over its session: {action}")) continue;
                    findings.Add(f);
                }
                if (findings.Count == 0) continue;
                try
                {
                    for (int i = 0; i < findings.Count; i += RemoteRepair.MaxFindings)
                    {
                        var json = RemoteRepair.FindingsToJson(findings.Skip(i).Take(RemoteRepair.MaxFindings));
                        var answer = RemoteScripts.RunForText(session.Runspace, RemoteScripts.Repair, new Dictionary<string, object> { ["FindingsJson"] = json },
                            TimeSpan.FromMinutes(5), _stop.Token);
                        List<string> warnings;
                        List<RepairResult> results;
                        try { results = RemoteRepair.ResultsFromJson(answer, out warnings); }
                        catch (Exception ex) when (ex is FormatException || ex is ArgumentException)
                        {
                            throw new InvalidOperationException("the answer is not the module's repair result: " + ex.Message, ex);
                        }
                        foreach (var w in warnings) WriteWarning($"{session.ComputerName}: {w}");
                        foreach (var r in results)
                        {
                            if (r.Error != null && !r.Verified && !Repairer.NeedsHuman(r)) WriteWarning($"{session.ComputerName}: {r.Interface} {r.Cause}: {r.Error}");
                            var o = PSObject.AsPSObject(r);
                            o.Properties.Add(new PSNoteProperty("PSComputerName", session.ComputerName));
                            WriteObject(o);
                        }
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
    }
}
