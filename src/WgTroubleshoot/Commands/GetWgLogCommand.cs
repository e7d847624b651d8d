using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using WgTroubleshoot.Logs;

namespace WgTroubleshoot.Commands
{
    /// <summary>
    /// <para type="synopsis">Gets WireGuard's log lines (kernel module and wireguard-go) as typed events.</para>
    /// <para type="description">Reads the journal (kernel messages and wireguard-go's) when journald runs, else the kernel
    /// ring buffer with dmesg, or saved log files with -Path, and returns one WgLogEvent per WireGuard line: handshake
    /// retries, invalid initiations, packets from outside AllowedIPs, keypairs, keepalives and more.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "WgLog", DefaultParameterSetName = "System")]
    [OutputType(typeof(WgLogEvent))]
    public sealed class GetWgLogCommand : WgCmdlet
    {
        /// <summary>Only events logged at or after this time. On the live system, this boot when omitted.</summary>
        [Parameter]
        public DateTime? Since { get; set; }

        /// <summary>Only events of these interfaces; wildcards are allowed.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(InterfaceNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string[] Interface { get; set; }

        /// <summary>Saved log files to read instead of the system's logs (a wireguard-go log, kern.log, journalctl or dmesg output).</summary>
        [Parameter(Mandatory = true, ParameterSetName = "Path", ValueFromPipelineByPropertyName = true)]
        [Alias("FullName")]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; }

        /// <summary>Only events of these types.</summary>
        [Parameter]
        public WgLogEventType[] EventType { get; set; }

        protected override void ProcessRecord()
        {
            try
            {
                var events = new List<WgLogEvent>();
                if (ParameterSetName == "Path")
                {
                    foreach (var p in Path)
                    {
                        IEnumerable<string> resolved;
                        try
                        {
                            resolved = GetResolvedProviderPathFromPSPath(p, out _);
                        }
                        catch (ItemNotFoundException ex)
                        {
                            WriteWgError(new WgException(ErrorIds.LogNotFound, ErrorCategory.ObjectNotFound, ex.Message, p, ex));
                            continue;
                        }
                        foreach (var file in resolved)
                        {
                            try
                            {
                                events.AddRange(WgLogReader.ReadFile(file));
                            }
                            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
                            {
                                var denied = ex is UnauthorizedAccessException;
                                WriteWgError(new WgException(denied ? ErrorIds.PermissionDenied : ErrorIds.LogReadFailed,
                                    denied ? ErrorCategory.PermissionDenied : ErrorCategory.ReadError, $"The log '{file}' could not be read: {ex.Message}", file, ex));
                            }
                        }
                    }
                    events = WgLogReader.Filter(events, Since);
                }
                else
                {
                    var reader = new WgLogReader(Runner, WriteVerbose);
                    events = reader.ReadSystem(Since);
                    if (!events.Any(e => e.Source == "kernel") && Directory.Exists("/sys/module/wireguard"))
                        WriteVerbose("No WireGuard kernel messages: the kernel module logs only with dynamic debug on "
                                     + "(echo module wireguard +p > /sys/kernel/debug/dynamic_debug/control).");
                }
                var patterns = Interface?.Select(i => new WildcardPattern(i, WildcardOptions.IgnoreCase)).ToList();
                foreach (var e in events)
                {
                    if (patterns != null && !patterns.Any(p => p.IsMatch(e.Interface ?? ""))) continue;
                    if (EventType != null && EventType.Length > 0 && Array.IndexOf(EventType, e.EventType) < 0) continue;
                    WriteObject(e);
                }
            }
            catch (WgException ex)
            {
                Fail(ex);
            }
        }
    }
}
