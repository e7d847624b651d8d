using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using WgTroubleshoot.Remoting;

namespace WgTroubleshoot.Commands
{
    // Both ends at once: -PeerSession / -PeerHostName. The knowledge is in Remoting/ (EndCollector, PeerJudge,
    // RemoteScripts); this part only reads the parameters and writes the findings.
    public sealed partial class InvokeWgDiagnosisCommand
    {
        /// <summary>A PSSession to the other end of the tunnel: both ends are collected and captured at the same time and judged together.</summary>
        [Parameter(ParameterSetName = LiveSet)]
        [ValidateNotNull]
        public PSSession PeerSession { get; set; }

        /// <summary>The other end's host name or address: an SSH session is opened to it as New-PSSession -HostName does (PowerShell 7).</summary>
        [Parameter(ParameterSetName = LiveSet)]
        [ValidateNotNullOrEmpty]
        public string PeerHostName { get; set; }

        /// <summary>With -PeerHostName: the user on the other host.</summary>
        [Parameter(ParameterSetName = LiveSet)]
        [ValidateNotNullOrEmpty]
        public string UserName { get; set; }

        /// <summary>With -PeerHostName: the SSH private key file used to log in to the other host.</summary>
        [Parameter(ParameterSetName = LiveSet)]
        [ValidateNotNullOrEmpty]
        public string KeyFilePath { get; set; }

        /// <summary>With -PeerHostName: the SSH port of the other host (22 by default).</summary>
        [Parameter(ParameterSetName = LiveSet)]
        [ValidateRange(1, 65535)]
        public int Port { get; set; } = 22;

        /// <summary>With -PeerHostName: ssh options (-o name=value), as New-PSSession -Options takes them (for example UserKnownHostsFile).</summary>
        [Parameter(ParameterSetName = LiveSet)]
        public Hashtable SshOption { get; set; }

        /// <summary>The other end's interface; by default the one that lists this end's public key (or whose key this end lists).</summary>
        [Parameter(ParameterSetName = LiveSet)]
        [ValidateNotNullOrEmpty]
        public string PeerInterface { get; set; }

        /// <summary>How long both ends capture their listen ports together (seconds).</summary>
        [Parameter(ParameterSetName = LiveSet)]
        [ValidateRange(2, 30)]
        public int CaptureSeconds { get; set; } = 5;

        private bool PeerRequested => PeerSession != null || PeerHostName != null;

        private static readonly TimeSpan RemoteTimeout = TimeSpan.FromSeconds(60);

        /// <summary>Runs the both-ends diagnosis and writes its findings; false when it could not run at all.</summary>
        private void WritePeerFindings()
        {
            if (PeerSession != null && PeerHostName != null)
                ThrowTerminatingError(new ErrorRecord(new ArgumentException("Give either -PeerSession or -PeerHostName, not both."), "WgParameterConflict", ErrorCategory.InvalidArgument, null));
            if (PeerConfigPath != null)
                ThrowTerminatingError(new ErrorRecord(new ArgumentException("-PeerConfigPath compares files; with -PeerSession or -PeerHostName the other end is read live. Give one of them."), "WgParameterConflict", ErrorCategory.InvalidArgument, null));
            Runspace runspace = null;
            bool own = false;
            string remoteName;
            if (PeerSession != null)
            {
                runspace = PeerSession.Runspace;
                remoteName = PeerSession.ComputerName;
            }
            else
            {
                remoteName = PeerHostName;
                string key = KeyFilePath == null ? null : GetUnresolvedProviderPathFromPSPath(KeyFilePath);
                try
                {
                    WriteVerbose($"Opening an SSH session to {PeerHostName}");
                    runspace = RemoteScripts.OpenSsh(PeerHostName, UserName, key, Port, SshOption, TimeSpan.FromSeconds(25));
                    own = true;
                }
                catch (PlatformNotSupportedException ex)
                {
                    ThrowTerminatingError(new ErrorRecord(new NotSupportedException(ex.Message, ex), RemoteErrorIds.RemotingNotSupported, ErrorCategory.NotImplemented, PeerHostName));
                }
                catch (Exception ex) when (!(ex is PipelineStoppedException))
                {
                    ThrowTerminatingError(new ErrorRecord(new WgException(RemoteErrorIds.RemoteUnreachable, ErrorCategory.ConnectionError,
                        $"Could not open an SSH session to '{PeerHostName}': {ex.Message}", PeerHostName, ex), RemoteErrorIds.RemoteUnreachable, ErrorCategory.ConnectionError, PeerHostName));
                }
            }
            try
            {
                RunPeer(runspace, remoteName);
            }
            finally
            {
                if (own) { try { runspace.Dispose(); } catch (Exception) { } }
            }
        }

        private void RunPeer(Runspace runspace, string remoteName)
        {
            var nonceBytes = new byte[16];
            using (var rng = RandomNumberGenerator.Create()) rng.GetBytes(nonceBytes);
            var nonce = string.Concat(nonceBytes.Select(b => b.ToString("x2")));
            var collector = new EndCollector(Runner);
            WriteVerbose($"Collecting both ends at once: this host and {remoteName}");
            var remoteTask = Task.Run(() => RemoteScripts.RunForText(runspace, RemoteScripts.Facts,
                new Dictionary<string, object> { ["Interface"] = PeerInterface ?? string.Empty, ["Nonce"] = nonce }, RemoteTimeout, _stop.Token));
            string single = Interface != null && Interface.Length == 1 && !WildcardPattern.ContainsWildcardCharacters(Interface[0]) ? Interface[0] : null;
            var local = collector.Collect(single, nonce);
            EndFacts remote;
            try
            {
                remote = EndFacts.FromJson(Wait(remoteTask));
            }
            catch (Exception ex) when (!(ex is PipelineStoppedException))
            {
                WriteRemoteError(remoteName, ex);
                return;
            }
            // the hosts as the user named them: this one, and the other by the name its session has
            local.HostName = "this host (" + local.HostName + ")";
            remote.HostName = remoteName;
            foreach (var p in local.Problems) WriteWarning($"{local.HostName}: {p}");
            foreach (var p in remote.Problems) WriteWarning($"{remoteName}: {p}");
            var patterns = Interface?.Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToList();
            var ifaces = local.Interfaces.Where(i => patterns == null || patterns.Any(p => p.IsMatch(i.Name))).ToList();
            int paired = 0;
            foreach (var li in ifaces)
            {
                var ri = PeerJudge.Pair(li, remote, PeerInterface);
                if (ri == null) { WriteVerbose($"{li.Name}: no interface on {remoteName} belongs to it"); continue; }
                paired++;
                var pa = li.Peers.FirstOrDefault(p => p.PublicKey == ri.PublicKey);
                var pb = ri.Peers.FirstOrDefault(p => p.PublicKey == li.PublicKey);
                string localProbe = null, remoteProbe = null;
                if (pa?.Endpoint != null) localProbe = ProbeTarget(ri, pa);
                else if (pb?.Endpoint != null) remoteProbe = ProbeTarget(li, pb);
                WriteVerbose($"{li.Name} <-> {remoteName} {ri.Name}: capturing both listen ports for {CaptureSeconds} s" + (localProbe != null ? $", probing {localProbe} from here" : remoteProbe != null ? $", probing {remoteProbe} from {remoteName}" : ""));
                CaptureFacts lc = null, rc = null;
                if (li.ListenPort > 0 && ri.ListenPort > 0)
                {
                    // both captures run before any probe goes out: the other end's first (its probe, if any,
                    // waits 1.5 s), then this end's, then this end's probe; one window for both
                    string started = null;
                    // when the other end probes, this end's capture must already run when its probe goes out
                    RunningCapture localRun = remoteProbe != null ? collector.Start(li.Name, li.ListenPort, CaptureSeconds + 20, null, TimeSpan.Zero) : null;
                    try
                    {
                        started = RemoteScripts.RunForText(runspace, RemoteScripts.StartCapture, new Dictionary<string, object>
                        {
                            ["Interface"] = ri.Name, ["ListenPort"] = ri.ListenPort, ["Seconds"] = (double)CaptureSeconds + 20, ["Probe"] = remoteProbe ?? string.Empty,
                        }, RemoteTimeout, _stop.Token);
                    }
                    catch (Exception ex) when (!(ex is PipelineStoppedException))
                    {
                        rc = CaptureFailed(remoteName, ri, ex);
                    }
                    if (started != null && started.StartsWith("{", StringComparison.Ordinal))
                    {
                        try { rc = CaptureFacts.FromJson(started); }
                        catch (FormatException ex) { rc = CaptureFailed(remoteName, ri, ex); }
                        started = null;
                    }
                    if (localRun == null) localRun = collector.Start(li.Name, li.ListenPort, CaptureSeconds + 20, localProbe, TimeSpan.FromSeconds(0.5));
                    _stop.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(CaptureSeconds));
                    if (started != null)
                    {
                        try { rc = CaptureFacts.FromJson(RemoteScripts.RunForText(runspace, RemoteScripts.FinishCapture, new Dictionary<string, object> { ["Id"] = started }, RemoteTimeout, _stop.Token)); }
                        catch (Exception ex) when (!(ex is PipelineStoppedException))
                        {
                            rc = CaptureFailed(remoteName, ri, ex);
                        }
                    }
                    lc = localRun.Stop();
                    lc.HostName = local.HostName;
                    rc.HostName = remoteName;
                }
                foreach (var j in PeerJudge.Judge(local, li, remote, ri, lc, rc))
                {
                    var o = PSObject.AsPSObject(j.Finding);
                    if (j.OnPeer) o.Properties.Add(new PSNoteProperty("PSComputerName", remoteName));
                    WriteObject(o);
                }
            }
            if (paired == 0)
                WriteError(new WgException(RemoteErrorIds.PeerNotPaired, ErrorCategory.ObjectNotFound,
                    $"No WireGuard interface on '{remoteName}' ({string.Join(", ", remote.Interfaces.Select(i => i.Name))}) belongs to one here ({string.Join(", ", ifaces.Select(i => i.Name))}): neither lists the other's public key. Name it with -PeerInterface.", remoteName).ToErrorRecord());
        }

        /// <summary>The other end's capture as one that did not run, saying why (the session failed, or its answer is not the module's).</summary>
        private static CaptureFacts CaptureFailed(string remoteName, InterfaceFacts ri, Exception ex)
            => new CaptureFacts { HostName = remoteName, Interface = ri.Name, ListenPort = ri.ListenPort, Error = ex.Message };

        /// <summary>An address of the other end's tunnel interface inside the AllowedIPs this end has for it (never outside the tunnel).</summary>
        private static string ProbeTarget(InterfaceFacts other, PeerFacts peer)
            => other.Addresses.Select(EndCollector.StripPrefix).FirstOrDefault(a => peer.AllowedIPs.Any(p => PeerJudge.Contains(p, a)));

        private string Wait(Task<string> t)
        {
            try { return t.GetAwaiter().GetResult(); }
            catch (OperationCanceledException) { throw new PipelineStoppedException(); }
        }

        private void WriteRemoteError(string host, Exception ex)
        {
            bool unreachable = ex is TimeoutException || ex.GetType().Name == "PSRemotingTransportException" || ex is RemoteException == false && ex is InvalidOperationException && ex.Message.Contains("not open");
            var message = $"The other end '{host}' could not be read: {ex.Message}";
            WriteError((unreachable
                ? new WgException(ErrorIds.RemoteUnreachable, ErrorCategory.ConnectionError, message, host, ex)
                : new WgException(ErrorIds.RemoteFailed, ErrorCategory.InvalidResult, message, host, ex)).ToErrorRecord());
        }
    }
}
