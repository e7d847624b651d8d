using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text;
using System.Threading;

namespace WgTroubleshoot.Native
{
    /// <summary>The outcome of one native command.</summary>
    public sealed class NativeResult
    {
        public NativeResult(string commandLine, int exitCode, string stdOut, string stdErr, TimeSpan elapsed)
        {
            CommandLine = commandLine;
            ExitCode = exitCode;
            StdOut = stdOut ?? string.Empty;
            StdErr = stdErr ?? string.Empty;
            Elapsed = elapsed;
        }

        public string CommandLine { get; }
        public int ExitCode { get; }
        public string StdOut { get; }
        public string StdErr { get; }
        public TimeSpan Elapsed { get; }
        public bool Success => ExitCode == 0;
    }

    /// <summary>
    /// The one way the module runs native tools (wg, ip, sysctl, nft, iptables, ufw, firewall-cmd, tcpdump,
    /// netsh). Every call is logged (command line only, never stdin), bounded in time, and failures become
    /// <see cref="WgException"/>s with stable ErrorIds.
    /// </summary>
    public interface INativeRunner
    {
        /// <summary>Runs the tool and returns its result; throws only for a missing tool or a timeout.</summary>
        NativeResult Run(string tool, IEnumerable<string> arguments, TimeSpan? timeout = null, string standardInput = null);

        /// <summary>True when the tool can be found on PATH.</summary>
        bool IsAvailable(string tool);

        /// <summary>
        /// Starts a long-running tool (a capture) whose standard output is read as a byte stream while it runs.
        /// The process never outlives <paramref name="maxLifetime"/>, is killed when the returned object is
        /// disposed, and on Linux also dies with this process. Throws only for a missing tool.
        /// </summary>
        NativeProcess Start(string tool, IEnumerable<string> arguments, TimeSpan maxLifetime);
    }

    /// <summary>One command of a batch for <see cref="INativeBatchRunner.RunAll"/>.</summary>
    public sealed class NativeInvocation
    {
        public NativeInvocation(string tool, IEnumerable<string> arguments)
        {
            Tool = tool ?? throw new ArgumentNullException(nameof(tool));
            Arguments = arguments?.ToList() ?? new List<string>();
        }

        public string Tool { get; }
        public IReadOnlyList<string> Arguments { get; }
    }

    /// <summary>
    /// A runner that can run several short commands at once (probes that spend their time waiting on the
    /// network). Each command is logged, bounded and started exactly as <see cref="INativeRunner.Run"/> does;
    /// the logging happens on the calling thread.
    /// </summary>
    public interface INativeBatchRunner : INativeRunner
    {
        /// <summary>
        /// Starts every command, then waits for all of them; the results come back in the order of the
        /// commands. Throws for a missing tool (before anything is started) or when a command outlives
        /// <paramref name="timeout"/> (after every command has ended or been stopped).
        /// </summary>
        IReadOnlyList<NativeResult> RunAll(IReadOnlyList<NativeInvocation> commands, TimeSpan? timeout = null);
    }

    public sealed class NativeRunner : INativeBatchRunner
    {
        public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

        /// <summary>The bound for the firewall front ends written in Python (ufw, firewall-cmd): they start slowly and reload whole rule sets, tens of seconds on a busy host.</summary>
        public static readonly TimeSpan SlowFrontEndTimeout = TimeSpan.FromSeconds(60);

        /// <summary>The default bound of one tool's run.</summary>
        public static TimeSpan DefaultTimeoutFor(string tool)
        {
            var name = Path.GetFileName(tool ?? "");
            return name == "ufw" || name == "firewall-cmd" ? SlowFrontEndTimeout : DefaultTimeout;
        }

        private readonly Action<string> _log;

        public NativeRunner(Action<string> log = null)
        {
            _log = log;
        }

        /// <summary>Where each tool comes from, for the "how to install it" part of NotInstalled errors.</summary>
        public static string InstallHint(string tool)
        {
            switch (tool)
            {
                case "wg": return "Install wireguard-tools (Debian/Ubuntu: apt-get install wireguard-tools; Fedora/RHEL: dnf install wireguard-tools; Windows: install WireGuard for Windows, which ships wg.exe).";
                case "wireguard-go": return "Install wireguard-go (apt-get install wireguard-go) or load the kernel module (modprobe wireguard).";
                case "ip": return "Install iproute2 (apt-get install iproute2).";
                case "nft": return "Install nftables (apt-get install nftables).";
                case "iptables":
                case "ip6tables": return "Install iptables (apt-get install iptables).";
                case "tcpdump": return "Install tcpdump (apt-get install tcpdump).";
                case "sysctl": return "Install procps (apt-get install procps).";
                case "ping": return "Install iputils-ping (apt-get install iputils-ping).";
                case "ufw": return "Install ufw (apt-get install ufw).";
                case "firewall-cmd": return "Install firewalld (dnf install firewalld).";
                default: return "Install '" + tool + "' and make sure it is on PATH.";
            }
        }

        public static string Quote(string arg)
        {
            if (arg.Length == 0) return "''";
            foreach (var c in arg)
            {
                if (!(char.IsLetterOrDigit(c) || "-_./:=,@%+[]".IndexOf(c) >= 0))
                    return "'" + arg.Replace("'", "'\\''") + "'";
            }
            return arg;
        }

        /// <summary>
        /// The command line as logged and shown (shell-quoted), through the shared key redactor: a token that
        /// decodes as a key and is not a known public key is shown as "(redacted)". Compare commands by their
        /// tool and arguments, never by this text.
        /// </summary>
        public static string FormatCommandLine(string tool, IEnumerable<string> arguments)
            => Keys.KeyRedactor.Redact(string.Join(" ", new[] { tool }.Concat(arguments.Select(Quote))));

        public bool IsAvailable(string tool) => ResolveTool(tool) != null;

        internal static string ResolveTool(string tool)
        {
            if (tool.IndexOf(Path.DirectorySeparatorChar) >= 0) return File.Exists(tool) ? tool : null;
            var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
            var dirs = path.Split(Path.PathSeparator).ToList();
            // Root's sbin directories are not always on a service's PATH (cron, systemd timers).
            if (Path.DirectorySeparatorChar == '/')
                foreach (var extra in new[] { "/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin" })
                    if (!dirs.Contains(extra)) dirs.Add(extra);
            var exts = Path.DirectorySeparatorChar == '\\' ? new[] { ".exe", ".cmd", "" } : new[] { "" };
            foreach (var d in dirs)
            {
                if (string.IsNullOrEmpty(d)) continue;
                foreach (var e in exts)
                {
                    var candidate = Path.Combine(d, tool + e);
                    if (File.Exists(candidate)) return candidate;
                }
            }
            return null;
        }

        public NativeResult Run(string tool, IEnumerable<string> arguments, TimeSpan? timeout = null, string standardInput = null)
        {
            var args = arguments?.ToList() ?? new List<string>();
            var limit = timeout ?? DefaultTimeoutFor(tool);
            var commandLine = FormatCommandLine(tool, args);
            _log?.Invoke("Running: " + commandLine);

            var exe = ResolveTool(tool);
            if (exe == null)
                throw new WgException(ErrorIds.ToolNotInstalled, ErrorCategory.NotInstalled,
                    $"The command '{tool}' was not found. {InstallHint(tool)}", tool);

            var psi = new ProcessStartInfo(exe)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                CreateNoWindow = true,
                Arguments = string.Join(" ", args.Select(WindowsQuote)),
            };
            psi.EnvironmentVariables["LC_ALL"] = "C";

            var sw = Stopwatch.StartNew();
            using (var p = new Process { StartInfo = psi })
            {
                var stdout = new StringBuilder();
                var stderr = new StringBuilder();
                var outDone = new ManualResetEventSlim();
                var errDone = new ManualResetEventSlim();
                p.OutputDataReceived += (s, e) => { if (e.Data == null) outDone.Set(); else lock (stdout) stdout.Append(e.Data).Append('\n'); };
                p.ErrorDataReceived += (s, e) => { if (e.Data == null) errDone.Set(); else lock (stderr) stderr.Append(e.Data).Append('\n'); };
                try
                {
                    p.Start();
                }
                catch (Win32Exception ex)
                {
                    throw new WgException(ErrorIds.ToolNotInstalled, ErrorCategory.NotInstalled,
                        $"The command '{tool}' could not be started: {ex.Message}. {InstallHint(tool)}", tool, ex);
                }
                p.BeginOutputReadLine();
                p.BeginErrorReadLine();
                try
                {
                    if (standardInput != null) p.StandardInput.Write(standardInput);
                    p.StandardInput.Close();
                }
                catch (IOException) { /* the tool closed stdin early; its exit code tells */ }

                if (!p.WaitForExit((int)limit.TotalMilliseconds))
                {
                    try { p.Kill(); } catch (InvalidOperationException) { }
                    p.WaitForExit(2000);
                    throw new WgException(ErrorIds.ToolTimedOut, ErrorCategory.OperationTimeout,
                        $"'{commandLine}' did not finish within {limit.TotalSeconds:0.#} seconds and was stopped.", commandLine);
                }
                outDone.Wait(2000);
                errDone.Wait(2000);
                p.WaitForExit();
                sw.Stop();
                string o, e2;
                lock (stdout) o = stdout.ToString();
                lock (stderr) e2 = stderr.ToString();
                _log?.Invoke($"'{tool}' exited with {p.ExitCode} after {sw.ElapsedMilliseconds} ms.");
                return new NativeResult(commandLine, p.ExitCode, o, e2, sw.Elapsed);
            }
        }

        public IReadOnlyList<NativeResult> RunAll(IReadOnlyList<NativeInvocation> commands, TimeSpan? timeout = null)
        {
            if (commands == null) throw new ArgumentNullException(nameof(commands));
            var limit = timeout ?? (commands.Any(c => DefaultTimeoutFor(c.Tool) > DefaultTimeout) ? SlowFrontEndTimeout : DefaultTimeout);
            var exes = new string[commands.Count];
            for (int i = 0; i < commands.Count; i++)
            {
                exes[i] = ResolveTool(commands[i].Tool);
                if (exes[i] == null)
                {
                    _log?.Invoke("Running: " + FormatCommandLine(commands[i].Tool, commands[i].Arguments));
                    throw new WgException(ErrorIds.ToolNotInstalled, ErrorCategory.NotInstalled,
                        $"The command '{commands[i].Tool}' was not found. {InstallHint(commands[i].Tool)}", commands[i].Tool);
                }
            }
            var running = new List<Running>(commands.Count);
            try
            {
                for (int i = 0; i < commands.Count; i++)
                {
                    var commandLine = FormatCommandLine(commands[i].Tool, commands[i].Arguments);
                    _log?.Invoke("Running: " + commandLine);
                    running.Add(Running.Begin(exes[i], commands[i].Tool, commands[i].Arguments, commandLine, null));
                }
                var deadline = Stopwatch.StartNew();
                string timedOut = null;
                foreach (var r in running)
                {
                    var left = limit - deadline.Elapsed;
                    if (!r.Process.WaitForExit((int)Math.Max(0, left.TotalMilliseconds)))
                    {
                        r.Kill();
                        timedOut = timedOut ?? r.CommandLine;
                    }
                }
                if (timedOut != null)
                    throw new WgException(ErrorIds.ToolTimedOut, ErrorCategory.OperationTimeout,
                        $"'{timedOut}' did not finish within {limit.TotalSeconds:0.#} seconds and was stopped.", timedOut);
                var results = new List<NativeResult>(running.Count);
                foreach (var r in running)
                {
                    var result = r.Finish();
                    _log?.Invoke($"'{r.Tool}' exited with {result.ExitCode} after {(long)result.Elapsed.TotalMilliseconds} ms.");
                    results.Add(result);
                }
                return results;
            }
            finally
            {
                foreach (var r in running) r.Dispose();
            }
        }

        /// <summary>A started command whose output is being collected (for <see cref="RunAll"/>).</summary>
        private sealed class Running : IDisposable
        {
            private readonly StringBuilder _stdout = new StringBuilder();
            private readonly StringBuilder _stderr = new StringBuilder();
            private readonly ManualResetEventSlim _outDone = new ManualResetEventSlim();
            private readonly ManualResetEventSlim _errDone = new ManualResetEventSlim();
            private readonly Stopwatch _clock = new Stopwatch();

            public Process Process { get; private set; }
            public string Tool { get; private set; }
            public string CommandLine { get; private set; }

            public static Running Begin(string exe, string tool, IEnumerable<string> args, string commandLine, string standardInput)
            {
                var psi = new ProcessStartInfo(exe)
                {
                    UseShellExecute = false,
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    RedirectStandardInput = true,
                    CreateNoWindow = true,
                    Arguments = string.Join(" ", args.Select(WindowsQuote)),
                };
                psi.EnvironmentVariables["LC_ALL"] = "C";
                var r = new Running { Tool = tool, CommandLine = commandLine, Process = new Process { StartInfo = psi } };
                r.Process.OutputDataReceived += (s, e) => { if (e.Data == null) r._outDone.Set(); else lock (r._stdout) r._stdout.Append(e.Data).Append('\n'); };
                r.Process.ErrorDataReceived += (s, e) => { if (e.Data == null) r._errDone.Set(); else lock (r._stderr) r._stderr.Append(e.Data).Append('\n'); };
                r._clock.Start();
                try
                {
                    r.Process.Start();
                }
                catch (Win32Exception ex)
                {
                    r.Dispose();
                    throw new WgException(ErrorIds.ToolNotInstalled, ErrorCategory.NotInstalled,
                        $"The command '{tool}' could not be started: {ex.Message}. {InstallHint(tool)}", tool, ex);
                }
                r.Process.BeginOutputReadLine();
                r.Process.BeginErrorReadLine();
                try
                {
                    if (standardInput != null) r.Process.StandardInput.Write(standardInput);
                    r.Process.StandardInput.Close();
                }
                catch (IOException) { /* the tool closed stdin early; its exit code tells */ }
                return r;
            }

            public void Kill()
            {
                try { Process.Kill(); } catch (InvalidOperationException) { } catch (Win32Exception) { }
                Process.WaitForExit(2000);
            }

            public NativeResult Finish()
            {
                _outDone.Wait(2000);
                _errDone.Wait(2000);
                Process.WaitForExit();
                _clock.Stop();
                string o, e;
                lock (_stdout) o = _stdout.ToString();
                lock (_stderr) e = _stderr.ToString();
                return new NativeResult(CommandLine, Process.ExitCode, o, e, _clock.Elapsed);
            }

            public void Dispose()
            {
                try
                {
                    if (Process != null && !HasExited()) Kill();
                }
                finally
                {
                    Process?.Dispose();
                    _outDone.Dispose();
                    _errDone.Dispose();
                }
            }

            private bool HasExited()
            {
                try { return Process.HasExited; }
                catch (InvalidOperationException) { return true; }
            }
        }

        public NativeProcess Start(string tool, IEnumerable<string> arguments, TimeSpan maxLifetime)
        {
            var args = arguments?.ToList() ?? new List<string>();
            var exe = ResolveTool(tool);
            if (exe == null)
            {
                _log?.Invoke("Running: " + FormatCommandLine(tool, args));
                throw new WgException(ErrorIds.ToolNotInstalled, ErrorCategory.NotInstalled,
                    $"The command '{tool}' was not found. {InstallHint(tool)}", tool);
            }
            // On Linux the tool is started through setpriv, which asks the kernel to kill it when this process
            // dies (even by SIGKILL), then execs it: the PID stays the tool's own.
            var fileName = exe;
            var execArgs = args;
            var setpriv = Path.DirectorySeparatorChar == '/' ? ResolveTool("setpriv") : null;
            if (setpriv != null)
            {
                fileName = setpriv;
                execArgs = new List<string> { "--pdeathsig", "KILL", "--", exe };
                execArgs.AddRange(args);
            }
            var commandLine = FormatCommandLine(setpriv != null ? "setpriv" : tool, setpriv != null ? new List<string> { "--pdeathsig", "KILL", "--", tool }.Concat(args) : args);
            _log?.Invoke($"Running (at most {maxLifetime.TotalSeconds:0.#} s): {commandLine}");

            var psi = new ProcessStartInfo(fileName)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                CreateNoWindow = true,
                Arguments = string.Join(" ", execArgs.Select(WindowsQuote)),
            };
            psi.EnvironmentVariables["LC_ALL"] = "C";
            var p = new Process { StartInfo = psi };
            try
            {
                p.Start();
            }
            catch (Win32Exception ex)
            {
                p.Dispose();
                throw new WgException(ErrorIds.ToolNotInstalled, ErrorCategory.NotInstalled,
                    $"The command '{tool}' could not be started: {ex.Message}. {InstallHint(tool)}", tool, ex);
            }
            return new NativeProcess(p, tool, commandLine, maxLifetime, _log);
        }

        private static string WindowsQuote(string arg)
        {
            // ProcessStartInfo.Arguments is parsed with the Windows rules on every platform.
            if (arg.Length > 0 && arg.IndexOfAny(new[] { ' ', '\t', '"', '\\' }) < 0) return arg;
            var sb = new StringBuilder("\"");
            int backslashes = 0;
            foreach (var c in arg)
            {
                if (c == '\\') { backslashes++; continue; }
                if (c == '"') { sb.Append('\\', backslashes * 2 + 1).Append('"'); backslashes = 0; continue; }
                sb.Append('\\', backslashes).Append(c); backslashes = 0;
            }
            sb.Append('\\', backslashes * 2).Append('"');
            return sb.ToString();
        }

        /// <summary>
        /// Turns a failed result into an error: permission problems become PermissionDenied, everything else
        /// ToolFailed with the tool's own first stderr line.
        /// </summary>
        public static WgException ToError(NativeResult result, string what)
        {
            var err = result.StdErr.Trim();
            var first = err.Split('\n').FirstOrDefault()?.Trim() ?? string.Empty;
            if (IsExecFailure(err, result.ExitCode))
                return new WgException(ErrorIds.ToolNotInstalled, ErrorCategory.NotInstalled,
                    $"{what} failed: '{result.CommandLine}' cannot be executed (exit code {result.ExitCode})" + (first.Length > 0 ? ": " + first : ".") + " Check that the program is an executable for this machine, or reinstall it.", result.CommandLine);
            if (IsPermissionProblem(err))
                return new WgException(ErrorIds.PermissionDenied, ErrorCategory.PermissionDenied,
                    $"{what} needs root (Administrator on Windows): '{result.CommandLine}' said: {first}", result.CommandLine);
            return new WgException(ErrorIds.ToolFailed, ErrorCategory.InvalidResult,
                $"{what} failed: '{result.CommandLine}' exited with {result.ExitCode}" + (first.Length > 0 ? ": " + first : "."), result.CommandLine);
        }

        /// <summary>
        /// True when a program could not be executed at all: exec's failure as setpriv or a shell report it
        /// ("failed to execute", "Exec format error", "cannot execute", exit code 126, or 127 "not found" from the
        /// shell execvp falls back to for a file that is not a program).
        /// </summary>
        public static bool IsExecFailure(string stderr, int? exitCode)
        {
            stderr = stderr ?? "";
            return stderr.IndexOf("failed to execute", StringComparison.OrdinalIgnoreCase) >= 0
                   || stderr.IndexOf("Exec format error", StringComparison.OrdinalIgnoreCase) >= 0
                   || stderr.IndexOf("cannot execute", StringComparison.OrdinalIgnoreCase) >= 0
                   || exitCode == 126
                   // execvp hands a file that is not a program to /bin/sh, which fails with 127 "...: not found"
                   || (exitCode == 127 && stderr.IndexOf("not found", StringComparison.OrdinalIgnoreCase) >= 0);
        }

        public static bool IsPermissionProblem(string stderr)
            => stderr.IndexOf("Operation not permitted", StringComparison.OrdinalIgnoreCase) >= 0
               || stderr.IndexOf("Permission denied", StringComparison.OrdinalIgnoreCase) >= 0
               || stderr.IndexOf("must be root", StringComparison.OrdinalIgnoreCase) >= 0
               || stderr.IndexOf("Access is denied", StringComparison.OrdinalIgnoreCase) >= 0;

        /// <summary>Runs and throws on a non-zero exit.</summary>
        public static NativeResult RunChecked(INativeRunner runner, string what, string tool, IEnumerable<string> args, TimeSpan? timeout = null, string stdin = null)
        {
            var r = runner.Run(tool, args, timeout, stdin);
            if (!r.Success) throw ToError(r, what);
            return r;
        }
    }
}
