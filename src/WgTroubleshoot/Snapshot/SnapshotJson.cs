using System;
using System.Collections;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Reflection;
using WgTroubleshoot.Bundle;
using WgTroubleshoot.Json;

namespace WgTroubleshoot.Snapshot
{
    /// <summary>
    /// Writes a <see cref="HostSnapshot"/> as JSON and reads it back, alone or out of a support bundle. Only
    /// properties with a public getter and setter are written (derived values are computed again on reading);
    /// every secret the collector saw is scrubbed from the text as a last guard (the model holds none).
    /// Reading is bounded (<see cref="JsonLimits.Snapshot"/>: size, depth, values) and the schema version is checked;
    /// bad input is a WgSnapshotInvalid error that names the place (a character, or a property's path) and never
    /// quotes a value of the file.
    /// </summary>
    public static class SnapshotJson
    {
        public const string ErrorIdInvalid = ErrorIds.SnapshotInvalid;
        /// <summary>The largest file read (a 10,000-peer snapshot is about 15 MB).</summary>
        public static long MaxBytes => JsonLimits.Snapshot.MaxChars;

        /// <summary>The snapshot as plain data (ordered dictionaries, lists, scalars) for JsonWriter or a bundle section.</summary>
        public static object ToTree(object value) => Tree(value, 0);

        public static string Write(HostSnapshot snapshot, IEnumerable<string> secrets = null)
        {
            var text = new JsonWriter().WriteValue(ToTree(snapshot)).ToString() + "\n";
            return secrets == null ? text : Redaction.Scrub(text, secrets, out _);
        }

        /// <summary>Reads a snapshot file or a support bundle that holds one.</summary>
        public static HostSnapshot ReadFile(string path)
        {
            var info = new FileInfo(path);
            if (!info.Exists)
                throw new WgException(ErrorIds.ConfigNotFound, ErrorCategory.ObjectNotFound, $"The snapshot '{path}' does not exist.", path);
            if (info.Length > MaxBytes)
                throw Invalid(path, $"it is {info.Length} bytes, more than the {MaxBytes} a snapshot may have");
            return Read(File.ReadAllText(path), path);
        }

        public static HostSnapshot Read(string text, string source = "(text)")
        {
            object root;
            try
            {
                root = JsonReader.Parse(text, JsonLimits.Snapshot);
            }
            catch (JsonFormatException ex)
            {
                throw Invalid(source, ex.Message);
            }
            if (!(root is Dictionary<string, object> obj)) throw Invalid(source, "it is not a JSON object");
            if (obj.TryGetValue("Format", out var f) && f is string fs && fs.StartsWith("WgTroubleshoot.SupportBundle", StringComparison.Ordinal))
            {
                if (!obj.TryGetValue("Snapshot", out var inner) || !(inner is Dictionary<string, object> innerObj))
                    throw Invalid(source, "it is a support bundle without a Snapshot section (made by an older version of the module)");
                if (innerObj.TryGetValue("Error", out var error))
                    throw Invalid(source, "the bundle's snapshot could not be collected: " + (error is string why ? Keys.KeyRedactor.Scrub(why) : "(no reason given)"));
                obj = innerObj;
            }
            if (!obj.TryGetValue("Format", out f) || !(f is string format) || format != new HostSnapshot().Format)
                throw Invalid(source, "it is neither a host snapshot nor a support bundle");
            var version = obj.TryGetValue("SchemaVersion", out var v) && v is double d ? (int)d : 0;
            if (version < 1 || version > HostSnapshot.CurrentSchemaVersion)
                throw Invalid(source, $"its schema version {version} is not one this module reads (1 to {HostSnapshot.CurrentSchemaVersion})");
            try
            {
                return (HostSnapshot)Bind(obj, typeof(HostSnapshot), 0);
            }
            catch (FormatException ex)
            {
                throw Invalid(source, ex.Message);
            }
        }

        private static WgException Invalid(string source, string why)
            => new WgException(ErrorIds.SnapshotInvalid, ErrorCategory.InvalidData, $"'{source}' cannot be replayed: {why}.", source);

        private static bool Writable(PropertyInfo p)
            => p.CanRead && p.CanWrite && p.GetIndexParameters().Length == 0 && p.GetSetMethod() != null && p.GetGetMethod() != null;

        private static object Tree(object value, int depth)
        {
            if (depth > 32) throw new InvalidOperationException("The snapshot nests too deeply.");
            switch (value)
            {
                case null: return null;
                case string _: case bool _: case int _: case long _: case double _: case float _: case decimal _:
                case DateTime _: case TimeSpan _: case Enum _: return value;
            }
            if (value is IDictionary dict)
            {
                var o = new OrderedDictionary();
                foreach (DictionaryEntry kv in dict) o[Convert.ToString(kv.Key, CultureInfo.InvariantCulture)] = Tree(kv.Value, depth + 1);
                return o;
            }
            if (value is IEnumerable seq)
            {
                var l = new List<object>();
                foreach (var item in seq) l.Add(Tree(item, depth + 1));
                return l;
            }
            var result = new OrderedDictionary();
            foreach (var p in WritableProperties(value.GetType()))
            {
                var v = p.GetValue(value);
                if (v == null) continue;
                result[p.Name] = Tree(v, depth + 1);
            }
            return result;
        }

        /// <summary>
        /// <paramref name="node"/> (what <see cref="JsonReader"/> gave) as a <paramref name="type"/>; a value of the wrong
        /// kind is a <see cref="BindError"/> naming the kind expected, never the value, and its path (put together
        /// only on the way out of an error, so a good file pays nothing for it).
        /// </summary>
        private static object Bind(object node, Type type, int depth)
        {
            if (depth > 32) throw new BindError("nests too deeply");
            var under = Nullable.GetUnderlyingType(type);
            if (node == null) return type.IsValueType && under == null ? Activator.CreateInstance(type) : null;
            if (under != null) type = under;
            if (type == typeof(object)) return node;
            if (type == typeof(string)) return node is string s ? s : node is double || node is bool ? Convert.ToString(node, CultureInfo.InvariantCulture) : throw Expected("a string", node);
            if (type == typeof(bool)) return node is bool b ? b : throw Expected("true or false", node);
            if (type == typeof(int)) return (int)Whole(node, int.MinValue, int.MaxValue);
            if (type == typeof(long)) return Whole(node, long.MinValue, long.MaxValue);
            if (type == typeof(double)) return node is double d ? d : throw Expected("a number", node);
            if (type == typeof(DateTime))
                return DateTime.TryParse(Str(node), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var t) ? t : throw Expected("a date and time (ISO 8601)", node);
            if (type == typeof(TimeSpan))
                return TimeSpan.TryParseExact(Str(node), "c", CultureInfo.InvariantCulture, out var ts) ? ts : throw Expected("a time span", node);
            if (type.IsEnum)
            {
                // a name, a number or a list of flags, as the writer writes an enum; Enum.Parse's own error would quote the value
                try { return Enum.Parse(type, Str(node), true); }
                catch (Exception ex) when (ex is ArgumentException || ex is OverflowException) { throw Expected("one of " + string.Join(", ", Enum.GetNames(type)), node); }
            }
            if (type.IsArray)
            {
                var items = node as List<object> ?? throw Expected("a list", node);
                var et = type.GetElementType();
                var arr = Array.CreateInstance(et, items.Count);
                for (int i = 0; i < items.Count; i++) arr.SetValue(Child(items[i], et, null, i, depth), i);
                return arr;
            }
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
            {
                var items = node as List<object> ?? throw Expected("a list", node);
                var list = (IList)Activator.CreateInstance(type);
                var et = type.GetGenericArguments()[0];
                for (int i = 0; i < items.Count; i++) list.Add(Child(items[i], et, null, i, depth));
                return list;
            }
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>))
            {
                var o = node as Dictionary<string, object> ?? throw Expected("an object", node);
                var args = type.GetGenericArguments();
                if (args[0] != typeof(string)) throw new BindError("has keys that are not strings");
                var dict = (IDictionary)Activator.CreateInstance(type, StringComparer.Ordinal);
                foreach (var kv in o) dict[kv.Key] = Child(kv.Value, args[1], JsonReader.IsPlainWord(kv.Key) ? kv.Key : "(key)", 0, depth);
                return dict;
            }
            if (!(node is Dictionary<string, object> obj)) throw Expected("an object", node);
            var target = Activator.CreateInstance(type);
            foreach (var p in WritableProperties(type))
                if (obj.TryGetValue(p.Name, out var v)) p.SetValue(target, Child(v, p.PropertyType, p.Name, 0, depth));
            return target;
        }

        /// <summary>A property (<paramref name="name"/>) or an item (<paramref name="index"/>, name null) one level down.</summary>
        private static object Child(object node, Type type, string name, int index, int depth)
        {
            try
            {
                return Bind(node, type, depth + 1);
            }
            catch (BindError e)
            {
                var here = name ?? "[" + index.ToString(CultureInfo.InvariantCulture) + "]";
                throw new BindError(e.Why, e.Path.Length == 0 || e.Path[0] == '[' ? here + e.Path : here + "." + e.Path);
            }
        }

        private static readonly ConcurrentDictionary<Type, PropertyInfo[]> Properties = new ConcurrentDictionary<Type, PropertyInfo[]>();

        private static PropertyInfo[] WritableProperties(Type type)
            => Properties.GetOrAdd(type, t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(Writable).ToArray());

        private static long Whole(object node, long min, long max)
        {
            if (!(node is double d)) throw Expected("a number", node);
            // outside the type it is refused, not wrapped (numbers are doubles: exact up to 2^53, as the writer's counters are)
            if (d != Math.Floor(d) || d < min || d >= (double)max + 1) throw Expected($"a whole number from {min} to {max}", node);
            return (long)d;
        }

        private static string Str(object node) => node as string ?? throw Expected("a string", node);

        private static BindError Expected(string what, object found) => new BindError($"must be {what}, not {Kind(found)}");

        /// <summary>A value of the wrong kind, and the path to it (filled in on the way out).</summary>
        private sealed class BindError : FormatException
        {
            public BindError(string why, string path = "") : base((path.Length == 0 ? "the snapshot" : path) + " " + why)
            {
                Why = why;
                Path = path;
            }

            public string Why { get; }
            public string Path { get; }
        }

        private static string Kind(object node)
        {
            switch (node)
            {
                case null: return "null";
                case string _: return "a string";
                case double _: return "a number";
                case bool _: return "true or false";
                case List<object> _: return "a list";
                case Dictionary<string, object> _: return "an object";
                default: return "something else";
            }
        }
    }
}
