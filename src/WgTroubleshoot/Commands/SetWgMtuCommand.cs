using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using WgTroubleshoot.Forwarding;
using WgTroubleshoot.Mtu;
using WgTroubleshoot.State;

namespace WgTroubleshoot.Commands
{
    /// <summary>Where Set-WgMtu writes.</summary>
    public enum MtuScope
    {
        /// <summary>The running interface only (`ip link set dev IF mtu N`).</summary>
        Live,
        /// <summary>The configuration file only (MTU = N in [Interface]).</summary>
        Config,
        /// <summary>Both.</summary>
        Both,
    }

    /// <summary>
    /// <para type="synopsis">Sets a WireGuard interface's MTU, live and/or in its configuration; -Auto uses the measured path MTU.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "WgMtu", SupportsShouldProcess = true, DefaultParameterSetName = ValueSet, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(ChangeRecord))]
    public sealed class SetWgMtuCommand : WgChangeCmdlet
    {
        private const string ValueSet = "Value";
        private const string AutoSet = "Auto";

        /// <summary>The WireGuard interface.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        [ArgumentCompleter(typeof(InterfaceNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string Interface { get; set; }

        /// <summary>The MTU (576..65535 for IPv4-only interfaces, 1280..65535 when the interface carries IPv6).</summary>
        [Parameter(Mandatory = true, ParameterSetName = ValueSet, Position = 1)]
        public int Mtu { get; set; }

        /// <summary>Measures the path to the peers' endpoints (Measure-WgPathMtu) and uses the lowest RecommendedMtu.</summary>
        [Parameter(Mandatory = true, ParameterSetName = AutoSet)]
        public SwitchParameter Auto { get; set; }

        /// <summary>Live, Config or Both (default).</summary>
        [Parameter]
        public MtuScope Scope { get; set; } = MtuScope.Both;

        protected override void ProcessRecord()
        {
            try
            {
                Output(Remedies.MtuRemedy.Set(RemedyContext(), Interface, dev => Auto ? Measure(dev) : Mtu, Scope));
            }
            catch (WgException ex)
            {
                ThrowTerminatingError(ex.ToErrorRecord());
            }
        }

        private int Measure(WgDevice dev)
        {
            var progress = new ProgressRecord(1, "Measuring the path MTU for " + dev.Interface.Name, "Starting");
            var m = new PathMtuMeasurer(Runner)
            {
                OnProbe = (size, what) => { progress.StatusDescription = $"{what}: {size} bytes"; WriteProgress(progress); },
            };
            int? best = null;
            try
            {
                foreach (var peer in dev.Peers)
                {
                    var ep = PathMtuMeasurer.EndpointAddress(peer.Endpoint);
                    if (ep == null) continue;
                    var r = m.Measure(ep, dev.Interface.Mtu, null);
                    WriteVerbose(r + ": " + string.Join(" ", r.Evidence));
                    if (r.RecommendedMtu.HasValue && r.Status != PathMtuStatus.Unknown)
                        best = best.HasValue ? Math.Min(best.Value, r.RecommendedMtu.Value) : r.RecommendedMtu;
                }
            }
            finally
            {
                progress.RecordType = ProgressRecordType.Completed;
                WriteProgress(progress);
            }
            if (!best.HasValue)
                throw new WgException(ErrorIds.PathMtuUnknown, ErrorCategory.ConnectionError,
                    $"-Auto could not measure the path MTU of any peer of {dev.Interface.Name} (no endpoint known, or the endpoints answer no ping). Give -Mtu instead.", dev.Interface.Name);
            WriteVerbose($"-Auto: recommended MTU {best}.");
            return best.Value;
        }
    }
}
