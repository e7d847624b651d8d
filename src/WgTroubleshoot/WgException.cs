using System;
using System.Management.Automation;

namespace WgTroubleshoot
{
    /// <summary>
    /// A failure the module understands: it carries the stable ErrorId and the ErrorCategory that the
    /// cmdlets put on the ErrorRecord. Messages never contain key material.
    /// </summary>
    public class WgException : Exception
    {
        public WgException(string errorId, ErrorCategory category, string message, object target = null, Exception inner = null)
            : base(message, inner)
        {
            ErrorId = errorId;
            // The table is the truth: an ErrorId always carries its documented category.
            Category = ErrorIds.CategoryOf(errorId) ?? category;
            Target = target;
        }

        /// <summary>An error with the category the ErrorId table gives it.</summary>
        public WgException(string errorId, string message, object target = null, Exception inner = null)
            : this(errorId, ErrorIds.CategoryOf(errorId) ?? ErrorCategory.NotSpecified, message, target, inner) { }

        /// <summary>Stable identifier scripts can match on (for example "WgInterfaceNotFound").</summary>
        public string ErrorId { get; }
        public ErrorCategory Category { get; }
        public object Target { get; }

        public ErrorRecord ToErrorRecord()
        {
            var record = new ErrorRecord(this, ErrorId, Category, Target);
            return record;
        }
    }

    /// <summary>The stable ErrorIds the module emits. Documented in about_WgTroubleshoot.</summary>
    public static class ErrorIds
    {
        public const string ToolNotInstalled = "WgToolNotInstalled";
        public const string ToolFailed = "WgToolFailed";
        public const string ToolTimedOut = "WgToolTimedOut";
        public const string PermissionDenied = "WgPermissionDenied";
        public const string InterfaceNotFound = "WgInterfaceNotFound";
        public const string PeerNotFound = "WgPeerNotFound";
        public const string ConfigNotFound = "WgConfigNotFound";
        public const string ConfigParseError = "WgConfigParseError";
        public const string ConfigWriteFailed = "WgConfigWriteFailed";
        public const string InvalidInterfaceName = "WgInvalidInterfaceName";
        public const string InvalidKey = "WgInvalidKey";
        public const string UapiError = "WgUapiError";
        public const string NotSupported = "WgNotSupported";
        public const string NoListenPort = "WgNoListenPort";
        public const string LogReadFailed = "WgLogReadFailed";
        public const string InvalidArgument = "WgInvalidArgument";
        public const string NoRoute = "WgNoRoute";
        public const string NoEndpoint = "WgNoEndpoint";
        public const string PathMtuUnknown = "WgPathMtuUnknown";
        public const string InvalidMtu = "WgInvalidMtu";
        public const string ChangeFailed = "WgChangeFailed";
        public const string PolicyNotFound = "WgPolicyNotFound";
        public const string PolicyInvalid = "WgPolicyInvalid";
        public const string DependencyLoadFailed = "WgDependencyLoadFailed";
        public const string FileExists = "WgFileExists";
        public const string FileWriteFailed = "WgFileWriteFailed";
        public const string StateFileInvalid = "WgStateFileInvalid";
        public const string RemediationBusy = "WgRemediationBusy";
        public const string SnapshotInvalid = "WgSnapshotInvalid";
        public const string UnsafePath = "WgUnsafePath";
        public const string FileBusy = "WgFileBusy";
        public const string LogNotFound = "WgLogNotFound";
        public const string RemoteUnreachable = "WgRemoteUnreachable";
        public const string RemoteFailed = "WgRemoteFailed";
        public const string RemotingNotSupported = "WgRemotingNotSupported";
        public const string NoSessionForHost = "WgNoSessionForHost";
        public const string PeerNotPaired = "WgPeerNotPaired";

        /// <summary>
        /// The one table of ErrorIds and their ErrorCategory, as about_WgTroubleshoot documents them (a test walks
        /// every throw site in the source against this table and against the document).
        /// </summary>
        public static readonly System.Collections.Generic.IReadOnlyDictionary<string, ErrorCategory> Categories =
            new System.Collections.Generic.Dictionary<string, ErrorCategory>(StringComparer.Ordinal)
            {
                [ToolNotInstalled] = ErrorCategory.NotInstalled,
                [ToolFailed] = ErrorCategory.InvalidResult,
                [ToolTimedOut] = ErrorCategory.OperationTimeout,
                [PermissionDenied] = ErrorCategory.PermissionDenied,
                [InterfaceNotFound] = ErrorCategory.ObjectNotFound,
                [PeerNotFound] = ErrorCategory.ObjectNotFound,
                [ConfigNotFound] = ErrorCategory.ObjectNotFound,
                [ConfigParseError] = ErrorCategory.InvalidData,
                [ConfigWriteFailed] = ErrorCategory.WriteError,
                [InvalidInterfaceName] = ErrorCategory.InvalidArgument,
                [InvalidKey] = ErrorCategory.InvalidArgument,
                [UapiError] = ErrorCategory.InvalidResult,
                [NotSupported] = ErrorCategory.NotImplemented,
                [NoListenPort] = ErrorCategory.InvalidOperation,
                [LogReadFailed] = ErrorCategory.ReadError,
                [InvalidArgument] = ErrorCategory.InvalidArgument,
                [NoRoute] = ErrorCategory.ConnectionError,
                [NoEndpoint] = ErrorCategory.ObjectNotFound,
                [PathMtuUnknown] = ErrorCategory.ConnectionError,
                [InvalidMtu] = ErrorCategory.InvalidArgument,
                [ChangeFailed] = ErrorCategory.WriteError,
                [PolicyNotFound] = ErrorCategory.ObjectNotFound,
                [PolicyInvalid] = ErrorCategory.InvalidData,
                [DependencyLoadFailed] = ErrorCategory.NotInstalled,
                [FileExists] = ErrorCategory.ResourceExists,
                [FileWriteFailed] = ErrorCategory.WriteError,
                [SnapshotInvalid] = ErrorCategory.InvalidData,
                [StateFileInvalid] = ErrorCategory.InvalidData,
                [RemediationBusy] = ErrorCategory.ResourceBusy,
                [UnsafePath] = ErrorCategory.SecurityError,
                [FileBusy] = ErrorCategory.ResourceBusy,
                [LogNotFound] = ErrorCategory.ObjectNotFound,
                [RemoteUnreachable] = ErrorCategory.ConnectionError,
                [RemoteFailed] = ErrorCategory.InvalidResult,
                [RemotingNotSupported] = ErrorCategory.NotImplemented,
                [NoSessionForHost] = ErrorCategory.InvalidArgument,
                [PeerNotPaired] = ErrorCategory.ObjectNotFound,
            };

        /// <summary>The documented category of an ErrorId; null for an id not in the table.</summary>
        public static ErrorCategory? CategoryOf(string errorId)
            => errorId != null && Categories.TryGetValue(errorId, out var c) ? c : (ErrorCategory?)null;
    }
}
