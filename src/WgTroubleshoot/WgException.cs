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
            Category = category;
            Target = target;
        }

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
        public const string SnapshotInvalid = "WgSnapshotInvalid";
    }
}
