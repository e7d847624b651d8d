using System;
using System.Linq;
using System.Management.Automation;
using System.Net;
using WgTroubleshoot.Mtu;
using WgTroubleshoot.State;

namespace WgTroubleshoot.Commands
{
    /// <summary>
    /// <para type="synopsis">Measures the path MTU to a peer's endpoint with don't-fragment probes and recommends a tunnel MTU.</para>
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Measure, "WgPathMtu", DefaultParameterSetName = PeerSet)]
    [OutputType(typeof(PathMtuResult))]
    public sealed class MeasureWgPathMtuCommand : WgCmdlet
    {
        private const string PeerSet = "Peer";
        private const string DestinationSet = "Destination";

        /// <summary>The WireGuard interface; all interfaces when omitted.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        [ArgumentCompleter(typeof(InterfaceNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string Interface { get; set; }

        /// <summary>Only this peer (public key).</summary>
        [Parameter(ParameterSetName = PeerSet, ValueFromPipelineByPropertyName = true)]
        [Alias("PublicKey")]
        [ValidateNotNullOrEmpty]
        public string Peer { get; set; }

        /// <summary>Probes this address instead of peers' endpoints.</summary>
        [Parameter(ParameterSetName = DestinationSet, Mandatory = true)]
        [ValidateNotNullOrEmpty]
        public string Destination { get; set; }

        /// <summary>The address probed across the tunnel; default: the first host address in the peer's AllowedIPs.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string TunnelTarget { get; set; }

        /// <summary>Tries per size before silence counts as "does not pass" (loss is not "too big").</summary>
        [Parameter]
        [ValidateRange(1, 10)]
        public int Tries { get; set; } = 3;

        /// <summary>Upper bound on the whole search, in seconds.</summary>
        [Parameter]
        [ValidateRange(1, 600)]
        public int TimeoutSeconds { get; set; } = 60;

        protected override void ProcessRecord()
        {
            try
            {
                IPAddress target = null;
                if (TunnelTarget != null && !IPAddress.TryParse(TunnelTarget, out target))
                    throw new WgException(ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, $"-TunnelTarget '{TunnelTarget}' is not an IP address.", TunnelTarget);
                if (ParameterSetName == DestinationSet)
                {
                    var dst = Resolve(Destination);
                    int? tunnelMtu = null;
                    if (Interface != null)
                    {
                        var devs = new WgStateReader(Runner).Read(new[] { Interface }, Fail);
                        new WgStateReader(Runner).AddLinkDetails(devs);
                        tunnelMtu = devs.FirstOrDefault()?.Interface.Mtu;
                    }
                    Emit(Measure(dst, tunnelMtu, target, Interface, null));
                    return;
                }
                var reader = new WgStateReader(Runner);
                var devices = reader.Read(Interface == null ? null : new[] { Interface }, Fail);
                reader.AddLinkDetails(devices);
                bool peerFound = false;
                foreach (var dev in devices)
                {
                    foreach (var peer in dev.Peers)
                    {
                        if (Peer != null && peer.PublicKey != Peer) continue;
                        peerFound = true;
                        var ep = PathMtuMeasurer.EndpointAddress(peer.Endpoint);
                        if (ep == null)
                        {
                            WriteWgError(new WgException(ErrorIds.NoEndpoint, ErrorCategory.ObjectNotFound,
                                $"Peer {peer.PublicKey} of {dev.Interface.Name} has no known endpoint address to probe (it has not connected yet, or this is the side without Endpoint). Use -Destination.", peer.PublicKey));
                            continue;
                        }
                        Emit(Measure(ep, dev.Interface.Mtu, target ?? PathMtuMeasurer.FirstHost(peer.AllowedIPs), dev.Interface.Name, peer.PublicKey));
                    }
                }
                if (Peer != null && !peerFound)
                    WriteWgError(new WgException(ErrorIds.PeerNotFound, ErrorCategory.ObjectNotFound,
                        $"No peer with public key '{Peer}' on {Interface ?? "any WireGuard interface"}.", Peer));
            }
            catch (WgException ex)
            {
                Fail(ex);
            }
        }

        private void Emit(PathMtuResult r)
        {
            if (r.Status == PathMtuStatus.Unknown)
                WriteWgError(new WgException(ErrorIds.PathMtuUnknown, ErrorCategory.ConnectionError,
                    $"The path MTU to {r.Destination} could not be measured: {r.Evidence.LastOrDefault()}", r.Destination));
            WriteObject(r);
        }

        private static IPAddress Resolve(string destination)
        {
            if (IPAddress.TryParse(destination, out var a)) return a;
            try
            {
                var all = Dns.GetHostAddresses(destination);
                if (all.Length > 0) return all[0];
            }
            catch (System.Net.Sockets.SocketException) { }
            throw new WgException(ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, $"'{destination}' is neither an IP address nor a name that resolves.", destination);
        }

        private PathMtuResult Measure(IPAddress dst, int? tunnelMtu, IPAddress tunnelTarget, string iface, string peer)
        {
            var activity = $"Measuring the path MTU to {dst}";
            var progress = new ProgressRecord(1, activity, "Starting");
            var m = new PathMtuMeasurer(Runner)
            {
                Tries = Tries,
                TimeLimit = TimeSpan.FromSeconds(TimeoutSeconds),
                OnProbe = (size, what) =>
                {
                    progress.StatusDescription = $"{what}: {size} bytes";
                    WriteProgress(progress);
                },
            };
            try
            {
                var r = m.Measure(dst, tunnelMtu, tunnelMtu.HasValue ? tunnelTarget : null);
                r.Interface = iface;
                r.Peer = peer;
                return r;
            }
            finally
            {
                progress.RecordType = ProgressRecordType.Completed;
                WriteProgress(progress);
            }
        }
    }
}
