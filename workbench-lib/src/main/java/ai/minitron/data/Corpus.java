package ai.minitron.data;

import ai.minitron.io.AtomicFiles;
import ai.minitron.io.Utf8Text;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A split file of the project corpus read into documents.
 *
 * <p>File format (written by {@code tools/fetch_corpus.py} and {@link #write}): UTF-8 text,
 * documents separated by a line holding exactly {@value #SEPARATOR}, normally with a blank line on
 * each side. Blank lines around a document are not part of it; blank lines inside it are.
 *
 * <p>The committed slice lives in {@code data/corpus/{train,validation,test}.txt}; the full splits
 * in {@code cache/corpus/} (see data/README.md and data/corpus/PROVENANCE.md).
 */
public final class Corpus {

    /** The document separator line (also the tokenizer's end-of-text token). */
    public static final String SEPARATOR = "<|endoftext|>";

    /** The three splits and their file names. */
    public enum Split {
        TRAIN("train.txt"),
        VALIDATION("validation.txt"),
        TEST("test.txt");

        private final String fileName;

        Split(String fileName) {
            this.fileName = fileName;
        }

        public String fileName() {
            return fileName;
        }
    }

    private final Path path;
    private final List<String> documents;

    private Corpus(Path path, List<String> documents) {
        this.path = path;
        this.documents = List.copyOf(documents);
    }

    /** Reads one split from a corpus directory ({@code data/corpus} or {@code cache/corpus}). */
    public static Corpus read(Path dir, Split split) {
        return read(dir.resolve(split.fileName()));
    }

    /**
     * Reads a split file.
     *
     * @throws DataException naming the file if it is missing, unreadable, empty, not valid UTF-8
     *     (with the byte offset of the first bad sequence) or holds no documents
     */
    public static Corpus read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new DataException("corpus file not found: " + file.toAbsolutePath()
                    + " (run python3 tools/fetch_corpus.py for the full splits)", e);
        } catch (IOException e) {
            throw new DataException("cannot read corpus file " + file.toAbsolutePath() + ": " + e,
                    e);
        }
        if (bytes.length == 0) {
            throw new DataException("corpus file is empty: " + file.toAbsolutePath());
        }
        String text = decodeUtf8(file, bytes);
        List<String> docs = parse(text);
        if (docs.isEmpty()) {
            throw new DataException("corpus file holds no documents (only whitespace and "
                    + "separators): " + file.toAbsolutePath());
        }
        return new Corpus(file, docs);
    }

    /** Wraps documents already in memory (path may be null). */
    public static Corpus of(Path path, List<String> documents) {
        return new Corpus(path, documents);
    }

    /** Strict UTF-8 decoding that reports the byte offset of the first malformed sequence. */
    static String decodeUtf8(Path file, byte[] bytes) {
        try {
            return Utf8Text.decode(bytes);
        } catch (Utf8Text.MalformedException e) {
            throw new DataException("corpus file is not valid UTF-8: " + file.toAbsolutePath()
                    + " (malformed byte sequence at byte offset " + e.offset() + ")", e);
        }
    }

    /** Splits file text into documents at separator lines; empty documents are dropped. */
    public static List<String> parse(String text) {
        List<String> docs = new ArrayList<>();
        int start = 0;
        int lineStart = 0;
        int n = text.length();
        while (lineStart <= n) {
            int nl = text.indexOf('\n', lineStart);
            int lineEnd = nl < 0 ? n : nl;
            int contentEnd = lineEnd > lineStart && text.charAt(lineEnd - 1) == '\r'
                    ? lineEnd - 1 : lineEnd;
            if (text.regionMatches(lineStart, SEPARATOR, 0, SEPARATOR.length())
                    && contentEnd - lineStart == SEPARATOR.length()) {
                addDocument(docs, text.substring(start, lineStart));
                start = nl < 0 ? n : nl + 1;
            }
            if (nl < 0) break;
            lineStart = nl + 1;
        }
        addDocument(docs, text.substring(Math.min(start, n)));
        return docs;
    }

    private static void addDocument(List<String> docs, String raw) {
        int a = 0;
        int b = raw.length();
        while (a < b && (raw.charAt(a) == '\n' || raw.charAt(a) == '\r')) a++;
        while (b > a && (raw.charAt(b - 1) == '\n' || raw.charAt(b - 1) == '\r')) b--;
        String doc = raw.substring(a, b);
        if (!doc.isBlank()) docs.add(doc);
    }

    /** The file text for documents: separator lines with a blank line each side, final LF. */
    public static String format(List<String> documents) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < documents.size(); i++) {
            String d = documents.get(i);
            if (Corpus.parse(d).size() != 1 || !Corpus.parse(d).get(0).equals(d)) {
                throw new IllegalArgumentException("document " + i + " is empty, has leading or "
                        + "trailing newlines, or contains a separator line");
            }
            if (i > 0) sb.append("\n\n").append(SEPARATOR).append("\n\n");
            sb.append(d);
        }
        return sb.append('\n').toString();
    }

    /** Writes documents as a split file, atomically (temp file in the same dir, then rename). */
    public static void write(Path file, List<String> documents) throws IOException {
        AtomicFiles.writeString(file, format(documents));
    }

    /** The file this corpus was read from (null for an in-memory corpus). */
    public Path path() {
        return path;
    }

    /** The documents, in file order (unmodifiable). */
    public List<String> documents() {
        return documents;
    }

    public int size() {
        return documents.size();
    }

    public String document(int i) {
        return documents.get(i);
    }

    /** Total characters (UTF-16 units) over all documents. */
    public long characters() {
        long n = 0;
        for (String d : documents) n += d.length();
        return n;
    }

    /** Whitespace-separated words over all documents (the count PROVENANCE.md reports). */
    public long words() {
        long n = 0;
        for (String d : documents) {
            boolean in = false;
            for (int i = 0; i < d.length(); i++) {
                char c = d.charAt(i);
                boolean ws = Character.isWhitespace(c) || Character.isSpaceChar(c);
                if (!ws && !in) n++;
                in = !ws;
            }
        }
        return n;
    }

    /** The first {@code n} documents (or all, if fewer). */
    public Corpus head(int n) {
        return new Corpus(path, documents.subList(0, Math.min(n, documents.size())));
    }

    @Override
    public String toString() {
        return "Corpus[" + path + ", " + documents.size() + " documents]";
    }
}
