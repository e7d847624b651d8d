using System;
using WgTroubleshoot.Firewall;
using WgTroubleshoot.Changes;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using WgTroubleshoot.Native;
using WgTroubleshoot.State;
using WgTroubleshoot.Trace;

namespace WgTroubleshoot.Commands
{
    /// <summary>
    /// <para type="synopsis">Captures a tunnel's WireGuard packets on the underlay for a few seconds and tells what they show.</para>
    /// <para type="description">Runs tcpdump on every interface for the WireGuard interface's UDP listen port, counts
    /// handshake initiations, responses, cookie replies and data messages per remote endpoint and direction, and judges
    /// each endpoint: NothingReceived, InitiationsUnanswered, HandshakeWithoutData or Healthy. Needs root and tcpdump.</para>
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Trace, "WgTraffic")]
    [OutputType(typeof(TrafficTrace))]
    public sealed class TraceWgTrafficCommand : WgCmdlet
    {
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();

        /// <summary>The WireGuard interface; may be omitted when there is exactly one.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(InterfaceNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string Interface { get; set; }

        /// <summary>How long to capture, 1 to 300 seconds.</summary>
        [Parameter]
        [ValidateRange(1, 300)]
        public int Seconds { get; set; } = 10;

        protected override void StopProcessing() => _stop.Cancel();

        protected override void EndProcessing() => _stop.Dispose();

        protected override void ProcessRecord()
        {
            try
            {
                if (!Privilege.IsLinux)
                    throw new WgException(ErrorIds.NotSupported, ErrorCategory.NotImplemented,
                        "Trace-WgTraffic captures with tcpdump on Linux; on this system use a packet capture tool (pktmon, Wireshark) on the WireGuard port.", Interface);
                if (!Privilege.IsElevated())
                    throw new WgException(ErrorIds.PermissionDenied, ErrorCategory.PermissionDenied,
                        "Capturing packets needs root: run Trace-WgTraffic as root (sudo pwsh).", Interface);
                if (!Runner.IsAvailable("tcpdump"))
                    throw new WgException(ErrorIds.ToolNotInstalled, ErrorCategory.NotInstalled,
                        "Trace-WgTraffic needs tcpdump, which was not found. " + NativeRunner.InstallHint("tcpdump"), "tcpdump");

                var device = ResolveDevice();
                if (device == null) return;
                var iface = device.Interface;
                if (!iface.ListenPort.HasValue || iface.ListenPort.Value == 0)
                    throw new WgException(ErrorIds.NoListenPort, ErrorCategory.InvalidOperation,
                        $"'{iface.Name}' has no UDP listen port yet (the interface is down or not configured): there is nothing to capture.", iface.Name);

                var peers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                foreach (var p in device.Peers)
                    if (!string.IsNullOrEmpty(p.Endpoint) && !peers.ContainsKey(p.Endpoint)) peers.Add(p.Endpoint, p.PublicKey);

                var tracer = new TrafficTracer(iface.Name, iface.ListenPort.Value, peers);
                var duration = TimeSpan.FromSeconds(Seconds);
                var activity = $"Capturing WireGuard traffic of {iface.Name} (UDP port {iface.ListenPort.Value})";
                var record = new ProgressRecord(1, activity, "Starting tcpdump");
                WriteProgress(record);
                var results = new TrafficCapture(Runner).Run(tracer, duration, _stop.Token,
                    (elapsed, packets) =>
                    {
                        record.StatusDescription = $"{packets} packet{(packets == 1 ? "" : "s")} seen";
                        record.PercentComplete = (int)Math.Min(100, elapsed.TotalMilliseconds * 100 / duration.TotalMilliseconds);
                        record.SecondsRemaining = (int)Math.Max(0, Math.Ceiling((duration - elapsed).TotalSeconds));
                        WriteProgress(record);
                    },
                    pid => WriteVerbose($"tcpdump runs as PID {pid.ToString(CultureInfo.InvariantCulture)}."));
                record.RecordType = ProgressRecordType.Completed;
                WriteProgress(record);
                if (_stop.IsCancellationRequested) return;
                NameTheFirewall(results, iface.Name, iface.ListenPort.Value);
                foreach (var r in results) WriteObject(r);
            }
            catch (WgException ex)
            {
                ThrowTerminatingError(ex.ToErrorRecord());
            }
        }

        /// <summary>
        /// Initiations that arrive unanswered are dropped after the capture point: when the host firewall blocks the
        /// port, say so (the deciding rule) instead of leaving the admin to guess between the firewall and the keys.
        /// </summary>
        private void NameTheFirewall(List<TrafficTrace> results, string iface, int port)
        {
            var unanswered = results.Where(r => r.Verdict == nameof(TrafficVerdict.InitiationsUnanswered) && r.InitiationsIn > 0).ToList();
            if (unanswered.Count == 0) return;
            try
            {
                var underlay = new FirewallTargets(Runner).Underlay();
                var q = new FirewallQuery { Port = port, Interface = iface, Underlay = underlay };
                var blocked = FirewallStatusBuilder.Build(new FirewallInspector(Runner).ReadAll(underlay), q).Where(s => s.Verdict == FirewallVerdict.Blocked).ToList();
                foreach (var r in unanswered)
                    r.Reason += blocked.Count > 0
                        ? " Cause: the host firewall drops them: " + string.Join("; ", blocked.Select(b => $"{b.Backend}: {b.DecidingRule}")) + " (Add-WgFirewallRule opens the port)."
                        : " The host firewall allows the port, so WireGuard does not accept the initiator's key (compare both ends with Compare-WgPeerConfig).";
            }
            catch (WgException ex)
            {
                WriteVerbose("The host firewall could not be read: " + ex.Message);
            }
        }

        private WgDevice ResolveDevice()
        {
            var reader = new WgStateReader(Runner);
            if (Interface != null)
            {
                var found = reader.Read(new[] { Interface }, WriteWgError);
                if (found.Count == 0) return null;
                return found[0];
            }
            var all = reader.ReadAll();
            if (all.Count == 1) return all[0];
            if (all.Count == 0)
                throw new WgException(ErrorIds.InterfaceNotFound, ErrorCategory.ObjectNotFound, "There is no WireGuard interface on this host to trace.", null);
            throw new WgException(ErrorIds.InterfaceNotFound, ErrorCategory.ObjectNotFound,
                "There are several WireGuard interfaces (" + string.Join(", ", all.Select(d => d.Interface.Name)) + "): name one with -Interface.", null);
        }
    }
}
