using System;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using WgTroubleshoot.Native;

namespace WgTroubleshoot.Remoting
{
    /// <summary>
    /// What the other end of a remote diagnosis runs: the constant scripts of <see cref="RemoteScripts"/>
    /// import the module and call these methods, which return plain JSON text. Nothing secret is in it:
    /// public keys, keyed hashes of preshared keys, addresses, ports, counters and packet types only.
    /// </summary>
    public static class RemoteEndpoint
    {
        private static readonly Regex InterfaceName = new Regex(@"^[A-Za-z0-9_=+.-]{1,15}$", RegexOptions.CultureInvariant);
        private static readonly Regex Nonce = new Regex(@"^[0-9a-f]{32,64}$", RegexOptions.CultureInvariant);

        /// <summary>This end's facts (one interface, or all when <paramref name="interfaceName"/> is empty) as JSON.</summary>
        public static string CollectFactsJson(string interfaceName, string nonce)
        {
            Validate(interfaceName, allowEmpty: true);
            if (nonce == null || !Nonce.IsMatch(nonce)) throw new ArgumentException("The nonce must be 32 to 64 lowercase hex digits.", nameof(nonce));
            return new EndCollector(new NativeRunner(null)).Collect(interfaceName, nonce).ToJson();
        }

        /// <summary>A capture of the interface's listen port for <paramref name="seconds"/> (with an optional probe) as JSON.</summary>
        public static string CaptureJson(string interfaceName, int listenPort, double seconds, string probeAddress)
        {
            Validate(interfaceName, allowEmpty: false);
            if (listenPort < 1 || listenPort > 65535) throw new ArgumentOutOfRangeException(nameof(listenPort));
            if (double.IsNaN(seconds) || seconds < 1 || seconds > 30) throw new ArgumentOutOfRangeException(nameof(seconds));
            return new EndCollector(new NativeRunner(null)).Capture(interfaceName, listenPort, seconds, string.IsNullOrEmpty(probeAddress) ? null : probeAddress, CancellationToken.None).ToJson();
        }

        private static readonly object Gate = new object();
        private static readonly System.Collections.Generic.Dictionary<string, RunningCapture> Running = new System.Collections.Generic.Dictionary<string, RunningCapture>();

        /// <summary>
        /// Starts a capture of the listen port that runs until <see cref="FinishCaptureJson"/> (at most
        /// <paramref name="maxSeconds"/>), and the probe 1.5 s later; returns once tcpdump captures. Returns the
        /// capture's id, or the JSON of a capture that could not start (starting with '{').
        /// </summary>
        public static string StartCapture(string interfaceName, int listenPort, double maxSeconds, string probeAddress)
        {
            Validate(interfaceName, allowEmpty: false);
            if (listenPort < 1 || listenPort > 65535) throw new ArgumentOutOfRangeException(nameof(listenPort));
            if (double.IsNaN(maxSeconds) || maxSeconds < 2 || maxSeconds > 40) throw new ArgumentOutOfRangeException(nameof(maxSeconds));
            var c = new EndCollector(new NativeRunner(null)).Start(interfaceName, listenPort, maxSeconds, string.IsNullOrEmpty(probeAddress) ? null : probeAddress, TimeSpan.FromSeconds(1.5), ownThread: true);
            if (!c.Running) return c.Stop().ToJson();
            var id = Guid.NewGuid().ToString("N");
            lock (Gate) Running[id] = c;
            // never left running: stopped at its lifetime even when nobody asks for it
            var timer = new Timer(_ => { RunningCapture left = null; lock (Gate) { if (Running.TryGetValue(id, out left)) Running.Remove(id); } left?.Stop(); },
                null, TimeSpan.FromSeconds(maxSeconds + 5), Timeout.InfiniteTimeSpan);
            GC.KeepAlive(timer);
            return id;
        }

        /// <summary>Stops the capture <paramref name="id"/> and returns what it saw as JSON.</summary>
        public static string FinishCaptureJson(string id)
        {
            RunningCapture c;
            lock (Gate) { if (id == null || !Running.TryGetValue(id, out c)) throw new ArgumentException("No such capture (it ended at its lifetime).", nameof(id)); Running.Remove(id); }
            return c.Stop().ToJson();
        }

        /// <summary>
        /// Repairs findings of this host sent by another one (Repair-WgIssue -Session): <paramref name="findingsJson"/>
        /// is a JSON array of findings, read as untrusted input (<see cref="RemoteRepair.FindingsFromJson"/>), and
        /// each goes through the same repair as a local Repair-WgIssue: the RemedyCatalog validates it, its remedy
        /// runs in one transaction, a new snapshot verifies it, and what does not verify is rolled back. The sender
        /// has already asked ShouldProcess for each. Returns the results and warnings as JSON.
        /// </summary>
        public static string RepairJson(string findingsJson)
        {
            var findings = RemoteRepair.FindingsFromJson(findingsJson);
            var runner = new NativeRunner(null);
            var warnings = new System.Collections.Generic.List<string>();
            // an MTU blackhole or a missing MSS clamp is only found by the deep diagnosis: its verification runs the same checks
            var deep = new System.Collections.Generic.HashSet<string>(findings.Where(x => Diagnosis.Repairer.FoundOnlyDeep(x.Cause)).Select(x => x.Interface));
            var repairer = new Diagnosis.Repairer(runner, Diagnosis.Repairer.EngineDiagnosis(runner, null, CancellationToken.None, deep.Contains), null, warnings.Add);
            var results = repairer.RepairAll(findings, null, (f, ex) => new RepairResult
            {
                FindingId = f.Id, Cause = f.Cause, Interface = f.Interface, Peer = f.Peer, Action = Diagnosis.Repairer.ActionFor(f), Error = "The repair failed: " + ex.Message,
            }).ToList();
            return RemoteRepair.ResultsToJson(results, warnings);
        }

        internal static void Validate(string interfaceName, bool allowEmpty)
        {
            if (string.IsNullOrEmpty(interfaceName) && allowEmpty) return;
            if (interfaceName == null || !InterfaceName.IsMatch(interfaceName) || interfaceName == "." || interfaceName == "..")
                throw new ArgumentException("Not a valid interface name.", nameof(interfaceName));
        }
    }
}
