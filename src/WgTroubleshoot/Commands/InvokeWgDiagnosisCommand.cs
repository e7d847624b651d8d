using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using WgTroubleshoot.Changes;
using WgTroubleshoot.Checks;
using WgTroubleshoot.Snapshot;

namespace WgTroubleshoot.Commands
{
    /// <summary>
    /// <para type="synopsis">Finds out why a WireGuard tunnel does not work: one command, findings with evidence and the exact fix.</para>
    /// </summary>
    [Cmdlet(VerbsLifecycle.Invoke, "WgDiagnosis", DefaultParameterSetName = LiveSet)]
    [OutputType(typeof(Finding))]
    public sealed class InvokeWgDiagnosisCommand : WgCmdlet
    {
        private const string LiveSet = "Live";
        private const string ReplaySet = "Replay";

        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly List<string> _interfaces = new List<string>();
        private bool _all;

        /// <summary>Interface names (wildcards allowed); all interfaces when omitted.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(InterfaceNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string[] Interface { get; set; }

        /// <summary>The other end's configuration file, to check keys, preshared keys, ports and AllowedIPs of both ends.</summary>
        [Parameter(ParameterSetName = LiveSet)]
        [ValidateNotNullOrEmpty]
        public string PeerConfigPath { get; set; }

        /// <summary>Adds the path-MTU probe and longer captures (takes longer).</summary>
        [Parameter(ParameterSetName = LiveSet)]
        public SwitchParameter Deep { get; set; }

        /// <summary>Also saves the host snapshot the findings were judged from to this file (JSON, no secrets, mode 0600).</summary>
        [Parameter(ParameterSetName = LiveSet)]
        [ValidateNotNullOrEmpty]
        public string SnapshotPath { get; set; }

        /// <summary>Replays a saved snapshot (Invoke-WgDiagnosis -SnapshotPath, or a support bundle) instead of reading this host: no root, no WireGuard needed.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ReplaySet)]
        [ValidateNotNullOrEmpty]
        public string Snapshot { get; set; }

        protected override void ProcessRecord()
        {
            if (Interface == null) _all = true;
            else _interfaces.AddRange(Interface);
        }

        protected override void EndProcessing()
        {
            try
            {
                if (ParameterSetName == ReplaySet) Replay();
                else Live();
            }
            catch (WgException ex)
            {
                Fail(ex);
            }
        }

        private void Replay()
        {
            var path = GetUnresolvedProviderPathFromPSPath(Snapshot);
            var snap = SnapshotJson.ReadFile(path);
            if (!_all)
            {
                var patterns = _interfaces.Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToList();
                foreach (var n in _interfaces.Where(n => !WildcardPattern.ContainsWildcardCharacters(n) && snap.Interface(n) == null))
                    WriteWgError(new WgException(ErrorIds.InterfaceNotFound, ErrorCategory.ObjectNotFound, $"The snapshot '{Snapshot}' has no interface named '{n}'.", n));
                snap.Interfaces = snap.Interfaces.Where(i => patterns.Any(p => p.IsMatch(i.Name))).ToList();
            }
            WriteVerbose($"Replaying the snapshot of {snap.HostName} taken {snap.CollectedAt:o} ({snap.Interfaces.Count} interface(s)).");
            foreach (var f in new Diagnoser().Diagnose(snap)) WriteObject(f);
        }

        private void Live()
        {
            string peerPath = null;
            if (PeerConfigPath != null)
            {
                peerPath = GetUnresolvedProviderPathFromPSPath(PeerConfigPath);
                if (!File.Exists(peerPath))
                {
                    ThrowTerminatingError(new WgException(ErrorIds.ConfigNotFound, ErrorCategory.ObjectNotFound,
                        $"The other side's configuration '{PeerConfigPath}' does not exist.", PeerConfigPath).ToErrorRecord());
                }
            }
            var savePath = SnapshotPath != null ? GetUnresolvedProviderPathFromPSPath(SnapshotPath) : null;
            var progress = new ProgressRecord(2, "Invoke-WgDiagnosis", "Starting");
            var request = new SnapshotRequest
            {
                Interfaces = _all ? null : _interfaces.Distinct().ToArray(),
                PeerConfigPath = peerPath,
                Deep = Deep,
            };
            var result = HostDiagnosis.Run(Runner, request, WriteWgError, WriteVerbose, (what, pct) =>
            {
                progress.StatusDescription = what;
                progress.PercentComplete = Math.Max(0, Math.Min(100, pct));
                WriteProgress(progress);
            }, _stop.Token);
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
            if (result.StateError != null && result.Snapshot.Interfaces.Count == 0) throw result.StateError;
            if (savePath != null)
            {
                try
                {
                    AtomicFile.Write(savePath, SnapshotJson.Write(result.Snapshot, result.Secrets), AtomicFile.Private, keepBackup: false);
                    WriteVerbose($"The snapshot was saved to {savePath}.");
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
                {
                    WriteWgError(new WgException(ErrorIds.FileWriteFailed, ErrorCategory.WriteError, $"The snapshot could not be saved to '{SnapshotPath}': {ex.Message}", SnapshotPath, ex));
                }
            }
            foreach (var f in result.Findings) WriteObject(f);
        }

        protected override void StopProcessing() => _stop.Cancel();
    }
}
