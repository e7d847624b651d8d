using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using WgTroubleshoot.Diagnosis;
using WgTroubleshoot.State;

namespace WgTroubleshoot.Commands
{
    /// <summary>
    /// <para type="synopsis">Judges each peer's handshake with WireGuard's own timers, from two samples of its counters.</para>
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "WgHandshake", DefaultParameterSetName = "Interface")]
    [OutputType(typeof(HandshakeResult), typeof(bool))]
    public sealed class TestWgHandshakeCommand : WgCmdlet
    {
        private readonly List<KeyValuePair<string, string>> _targets = new List<KeyValuePair<string, string>>();
        private readonly ManualResetEvent _stop = new ManualResetEvent(false);
        private readonly CancellationTokenSource _cancel = new CancellationTokenSource();

        /// <summary>Interface names (wildcards allowed); all interfaces when omitted.</summary>
        [Parameter(Position = 0, ParameterSetName = "Interface")]
        [ArgumentCompleter(typeof(InterfaceNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string[] Interface { get; set; }

        /// <summary>Only the peers with these public keys.</summary>
        [Parameter(ParameterSetName = "Interface")]
        [ValidateNotNullOrEmpty]
        public string[] PublicKey { get; set; }

        /// <summary>Interfaces or peers from Get-WgInterface, Get-WgPeer, or interface names.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = "InputObject")]
        public PSObject[] InputObject { get; set; }

        /// <summary>Seconds between the two samples of the counters (0: one sample, no traffic evidence).</summary>
        [Parameter]
        [ValidateRange(0, 300)]
        public int SampleSeconds { get; set; } = 5;

        /// <summary>Return one Boolean: true only when no peer is Stale or NeverEstablished.</summary>
        [Parameter]
        public SwitchParameter Quiet { get; set; }

        protected override void ProcessRecord()
        {
            if (ParameterSetName == "Interface")
            {
                if (Interface == null) _targets.Add(new KeyValuePair<string, string>(null, null));
                else foreach (var i in Interface) _targets.Add(new KeyValuePair<string, string>(i, null));
                return;
            }
            foreach (var o in InputObject)
            {
                var t = PipelineTarget.From(o);
                if (t.Key == null && t.Value == null)
                    WriteError(new ErrorRecord(new ArgumentException("Pipe WireGuard interfaces, peers or interface names to Test-WgHandshake."),
                        "WgUnsupportedInput", ErrorCategory.InvalidArgument, o));
                else _targets.Add(t);
            }
        }

        protected override void EndProcessing()
        {
            if (_targets.Count == 0) return;
            try
            {
                var reader = new WgStateReader(Runner);
                var names = _targets.Any(t => t.Key == null) ? null : _targets.Select(t => t.Key).Distinct().ToArray();
                var first = reader.Read(names, WriteWgError);
                foreach (var d in first) WgStateReader.AddPeerNames(d, WriteWarning);
                var byKey = first.SelectMany(d => d.Peers).GroupBy(p => p.Interface + "\n" + p.PublicKey).ToDictionary(g => g.Key, g => g.First());
                List<WgDevice> second = first;
                if (SampleSeconds > 0 && first.Count > 0)
                {
                    var progress = new ProgressRecord(1, "Test-WgHandshake", "Sampling transfer counters");
                    for (int s = 0; s < SampleSeconds; s++)
                    {
                        progress.PercentComplete = s * 100 / SampleSeconds;
                        progress.StatusDescription = $"Sampling transfer counters ({SampleSeconds - s} s left)";
                        WriteProgress(progress);
                        if (_stop.WaitOne(1000)) return;
                    }
                    progress.RecordType = ProgressRecordType.Completed;
                    WriteProgress(progress);
                    second = reader.Read(first.Select(d => d.Interface.Name).ToArray(), WriteWgError);
                    foreach (var d in second) WgStateReader.AddPeerNames(d, WriteWarning);
                }
                var results = new List<HandshakeResult>();
                var wantedKeys = new HashSet<string>(_targets.Where(t => t.Value != null).Select(t => (t.Key ?? "*") + "\n" + t.Value));
                var wholeInterfaces = new HashSet<string>(_targets.Where(t => t.Value == null).Select(t => t.Key ?? "*"));
                var seenKeys = new HashSet<string>();
                foreach (var dev in second)
                {
                    bool whole = wholeInterfaces.Contains("*") || wholeInterfaces.Contains(dev.Interface.Name)
                                 || wholeInterfaces.Any(w => WildcardPattern.ContainsWildcardCharacters(w) && new WildcardPattern(w, WildcardOptions.IgnoreCase).IsMatch(dev.Interface.Name));
                    foreach (var p in dev.Peers)
                    {
                        var k = dev.Interface.Name + "\n" + p.PublicKey;
                        bool keyWanted = wantedKeys.Contains(k) || wantedKeys.Contains("*\n" + p.PublicKey);
                        if (PublicKey != null) { if (Array.IndexOf(PublicKey, p.PublicKey) < 0) continue; seenKeys.Add(p.PublicKey); }
                        else if (!whole && !keyWanted) continue;
                        byKey.TryGetValue(k, out var before);
                        results.Add(HandshakeEvaluator.Evaluate(SampleSeconds > 0 ? before : null, p, SampleSeconds));
                    }
                }
                // OneWay from the same liveness proof as the diagnosis: counters that do not show two-way traffic
                // get one probe into the tunnel, and only an unanswered probe is one-way (never a lone keepalive).
                bool sampled = SampleSeconds > 0 && !ReferenceEquals(second, first);
                if (sampled && results.Any(r => Liveness.ProbeVerdict.NeedsProbe(r, true)))
                {
                    reader.AddLinkDetails(second);
                    var liveness = new Liveness.HandshakeLiveness(Runner, null, WriteVerbose)
                    {
                        OnProbe = (name, n) =>
                        {
                            var pr = new ProgressRecord(1, "Test-WgHandshake", $"{name}: liveness probe of {n} peer{(n == 1 ? "" : "s")} (up to {Liveness.TunnelProbe.DefaultWait.TotalSeconds:0} s)");
                            WriteProgress(pr);
                        },
                    };
                    liveness.Apply(second, results, true, _cancel.Token);
                    if (_cancel.IsCancellationRequested) return;
                    WriteProgress(new ProgressRecord(1, "Test-WgHandshake", "Liveness probe") { RecordType = ProgressRecordType.Completed });
                }
                else if (sampled) new Liveness.HandshakeLiveness(Runner).Apply(second, results, true);
                else foreach (var r in results) r.OneWay = false;
                if (PublicKey != null)
                    foreach (var k in PublicKey.Where(k => !seenKeys.Contains(k)))
                        WriteWgError(new WgException(ErrorIds.PeerNotFound, ErrorCategory.ObjectNotFound, $"No peer with public key '{k}'.", k));
                if (Quiet) WriteObject(HandshakeEvaluator.AllHealthy(results));
                else foreach (var r in results) WriteObject(r);
            }
            catch (WgException ex)
            {
                Fail(ex);
            }
        }

        protected override void StopProcessing() { _stop.Set(); _cancel.Cancel(); }
    }

    /// <summary>Reads what a pipeline object names: (interface, peer public key or null).</summary>
    internal static class PipelineTarget
    {
        public static KeyValuePair<string, string> From(PSObject o)
        {
            if (o == null) return default(KeyValuePair<string, string>);
            if (o.BaseObject is string s) return new KeyValuePair<string, string>(s, null);
            bool isPeer = o.TypeNames.Any(t => t.EndsWith("WgTroubleshoot.WgPeer", StringComparison.Ordinal)
                                               || t.EndsWith("WgTroubleshoot.HandshakeResult", StringComparison.Ordinal));
            string iface = Str(o, "Interface") ?? Str(o, "Name");
            if (isPeer) return new KeyValuePair<string, string>(iface, Str(o, "PublicKey") ?? Str(o, "Peer"));
            return new KeyValuePair<string, string>(iface, null);
        }

        private static string Str(PSObject o, string name) => o.Properties[name]?.Value?.ToString();
    }
}
