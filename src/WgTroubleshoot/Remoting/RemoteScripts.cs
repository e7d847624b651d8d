using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;

namespace WgTroubleshoot.Remoting
{
    /// <summary>
    /// The only place that runs anything on another host: a few constant scripts, run on the remote runspace
    /// of a PSSession (never on the local one), with their values passed as parameters (never pasted into
    /// the text). Each imports the module when it is not loaded yet and calls a public static entry point
    /// (<see cref="RemoteEndpoint"/>) that takes plain values (a repair: the findings as JSON) and returns JSON
    /// text. No cmdlet of the module is invoked by name on either side.
    /// </summary>
    public static class RemoteScripts
    {
        // `using module` imports the module when the script is parsed on the other host (a no-op when it is loaded
        // already): a language statement, not a command looked up by name. It must come before param().
        private const string Import = "using module WgTroubleshoot\n";

        public const string Facts = Import + "param([string] $Interface, [string] $Nonce)\n$ErrorActionPreference = 'Stop'\n" +
            "[WgTroubleshoot.Remoting.RemoteEndpoint]::CollectFactsJson($Interface, $Nonce)\n";

        public const string Capture = Import + "param([string] $Interface, [int] $ListenPort, [double] $Seconds, [string] $Probe)\n$ErrorActionPreference = 'Stop'\n" +
            "[WgTroubleshoot.Remoting.RemoteEndpoint]::CaptureJson($Interface, $ListenPort, $Seconds, $Probe)\n";

        public const string StartCapture = Import + "param([string] $Interface, [int] $ListenPort, [double] $Seconds, [string] $Probe)\n$ErrorActionPreference = 'Stop'\n" +
            "[WgTroubleshoot.Remoting.RemoteEndpoint]::StartCapture($Interface, $ListenPort, $Seconds, $Probe)\n";

        public const string FinishCapture = Import + "param([string] $Id)\n$ErrorActionPreference = 'Stop'\n" +
            "[WgTroubleshoot.Remoting.RemoteEndpoint]::FinishCaptureJson($Id)\n";

        public const string Repair = Import + "param([string] $FindingsJson)\n$ErrorActionPreference = 'Stop'\n" +
            "[WgTroubleshoot.Remoting.RemoteEndpoint]::RepairJson($FindingsJson)\n";

        /// <summary>Runs one of the constant scripts on the session's runspace, bounded in time; returns output and error records.</summary>
        public static Collection<PSObject> Run(Runspace runspace, string script, IDictionary<string, object> parameters, TimeSpan timeout,
            CancellationToken cancel, out List<object> errors)
        {
            if (runspace == null) throw new ArgumentNullException(nameof(runspace));
            if (script != Facts && script != Capture && script != StartCapture && script != FinishCapture && script != Repair) throw new ArgumentException("Only the module's own remote scripts run on another host.", nameof(script));
            // only ever the runspace of a session to another host: a local runspace has no connection info
            if (runspace.ConnectionInfo == null) throw new ArgumentException("The module's remote scripts run on the runspace of a remote session only.", nameof(runspace));
            if (runspace.RunspaceStateInfo.State != RunspaceState.Opened)
                throw new InvalidOperationException($"The session to '{ComputerName(runspace)}' is not open ({runspace.RunspaceStateInfo.State}).");
            errors = new List<object>();
            // The reference assemblies of PowerShellStandard 5.1 (which this module compiles against, so that the same
            // dll loads in Windows PowerShell 5.1 and PowerShell 7) offer no other public way to run anything on a
            // session's remote runspace: Runspace.CreatePipeline is not in them, and ScriptBlock.GetPowerShell,
            // RunspacePool and PSCommand all end in a PowerShell object too. So the one PowerShell object of the
            // module is made here, bound to the REMOTE runspace before anything is added, and runs one of the
            // constant scripts above (AddScript with parameters; never AddCommand, never a command by name).
            using (var ps = System.Management.Automation.PowerShell.Create())
            {
                ps.Runspace = runspace;
                ps.AddScript(script, true);
                foreach (var kv in parameters) ps.AddParameter(kv.Key, kv.Value);
                var async = ps.BeginInvoke();
                int which = WaitHandle.WaitAny(new[] { async.AsyncWaitHandle, cancel.WaitHandle }, timeout);
                if (which != 0)
                {
                    try { ps.Stop(); } catch (Exception) { }
                    if (which == 1) throw new OperationCanceledException(cancel);
                    throw new TimeoutException($"'{ComputerName(runspace)}' did not answer within {timeout.TotalSeconds:0} s.");
                }
                var output = new Collection<PSObject>();
                foreach (var o in ps.EndInvoke(async)) output.Add(o);
                foreach (var e in ps.Streams.Error) errors.Add(e);
                return output;
            }
        }

        /// <summary>The first string the script returned (the JSON), or a clear exception.</summary>
        public static string RunForText(Runspace runspace, string script, IDictionary<string, object> parameters, TimeSpan timeout, CancellationToken cancel)
        {
            var output = Run(runspace, script, parameters, timeout, cancel, out var errors);
            var text = output.Select(o => o?.BaseObject as string).FirstOrDefault(s => s != null);
            if (text != null) return text;
            var first = errors.FirstOrDefault();
            string msg = first is ErrorRecord er ? er.Exception?.Message ?? er.ToString() : first?.ToString() ?? "no answer";
            throw new InvalidOperationException($"'{ComputerName(runspace)}' gave no result: {msg}");
        }

        public static string ComputerName(Runspace runspace)
        {
            try { return runspace.ConnectionInfo?.ComputerName ?? "localhost"; }
            catch (Exception) { return "(remote)"; }
        }

        /// <summary>
        /// Opens an SSH runspace as New-PSSession -HostName does. SSHConnectionInfo exists from PowerShell 6 on
        /// and not in Windows PowerShell 5.1 (nor in the reference assemblies this module compiles against), so
        /// it is found at run time; on 5.1 this throws <see cref="PlatformNotSupportedException"/>.
        /// </summary>
        public static Runspace OpenSsh(string hostName, string userName, string keyFilePath, int port, Hashtable options, TimeSpan connectTimeout)
        {
            var type = typeof(PSObject).Assembly.GetType("System.Management.Automation.Runspaces.SSHConnectionInfo", false);
            if (type == null)
                throw new PlatformNotSupportedException("PowerShell remoting over SSH needs PowerShell 7 or later; this is PowerShell " + typeof(PSObject).Assembly.GetName().Version + ".");
            int ms = (int)Math.Max(1000, Math.Min(int.MaxValue, connectTimeout.TotalMilliseconds));
            object info = null;
            foreach (var ctor in type.GetConstructors(BindingFlags.Public | BindingFlags.Instance).OrderByDescending(c => c.GetParameters().Length))
            {
                var ps = ctor.GetParameters();
                var names = ps.Select(p => p.Name.ToLowerInvariant()).ToArray();
                if (ps.Length == 7 && names[6] == "options") { info = ctor.Invoke(new object[] { userName, hostName, keyFilePath, port, "powershell", ms, options }); break; }
                if (ps.Length == 6 && names[5] == "connectingtimeout" && (options == null || options.Count == 0)) { info = ctor.Invoke(new object[] { userName, hostName, keyFilePath, port, "powershell", ms }); break; }
            }
            if (info == null)
                throw new PlatformNotSupportedException("This PowerShell's SSHConnectionInfo has no constructor with a connection timeout" + (options != null && options.Count > 0 ? " and SSH options" : "") + ".");
            var runspace = RunspaceFactory.CreateRunspace((RunspaceConnectionInfo)info);
            try
            {
                var open = Task.Run(() => runspace.Open());
                if (!open.Wait(ms + 5000))
                {
                    try { runspace.Dispose(); } catch (Exception) { }
                    throw new TimeoutException($"The SSH connection to '{hostName}' did not open within {(ms + 5000) / 1000} s.");
                }
            }
            catch (AggregateException ax)
            {
                try { runspace.Dispose(); } catch (Exception) { }
                throw ax.InnerException ?? ax;
            }
            return runspace;
        }
    }
}
