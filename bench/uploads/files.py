#!/usr/bin/env python3
"""Hostile and large spreadsheet uploads for the organisations ledger.

    python3 bench/uploads/files.py DIR [--grid-codes CODE,CODE,...]

Writes every file into DIR (each at most 5 MiB, the API's MAX_UPLOAD) and
DIR/files.tsv: name, rows, columns, what the file is. The xlsx files are
built by hand with zipfile, like tests/tests/suite/uploads.rs builds its own.
The header is the organisations template's (GET .../template?format=csv).
"""

import argparse
import os
import random
import struct
import zipfile

MAX_UPLOAD = 5 * 1024 * 1024
HEADER = ["grid_code", "name", "kind", "contact_person", "member_of_joint_committee"]
KINDS = ["托育机构", "商铺", "企业", "社会组织", "学校", "其他"]
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
PARTS = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
}
SHARED_REL = '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'


def col(n):
    """Column letters of a 0-based index: 0 -> A, 16383 -> XFD."""
    s = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def esc(t):
    return t.replace("&", "&amp;").replace("<", "&lt;")


def inline(ref, text):
    return f'<c r="{ref}" t="inlineStr"><is><t>{esc(text)}</t></is></c>'


def header_row(names):
    return '<row r="1">' + "".join(inline(f"{col(i)}1", h) for i, h in enumerate(names)) + "</row>"


def xlsx(path, rows, dimension=None, shared=None, sst_attrs=""):
    """An xlsx whose first sheet's <sheetData> is the strings of `rows` (an
    iterable, streamed into the archive); `shared`, an iterable of strings,
    becomes xl/sharedStrings.xml. Returns the sheet XML's size."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in PARTS.items():
            if name == "xl/_rels/workbook.xml.rels" and shared is not None:
                body = body.replace("</Relationships>", SHARED_REL)
            z.writestr(name, body)
        if shared is not None:
            with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as f:
                f.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{NS}"{sst_attrs}>'.encode())
                for s in shared:
                    f.write(f"<si><t>{esc(s)}</t></si>".encode())
                f.write(b"</sst>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}">'.encode())
            if dimension:
                f.write(f'<dimension ref="{dimension}"/>'.encode())
            f.write(b"<sheetData>")
            for r in rows:
                f.write(r.encode())
            f.write(b"</sheetData></worksheet>")
        return z.getinfo("xl/worksheets/sheet1.xml").file_size


def honest_rows(codes, n):
    for i in range(n):
        yield [codes[i % len(codes)], f"基准组织{i + 1:05d}", KINDS[i % len(KINDS)], f"负责人{i % 997}", "是" if i % 2 else "否"]


def honest_xlsx(path, codes, n):
    """Like Excel writes it: shared strings, every cell with its reference."""
    strings, index = [], {}

    def sref(t):
        if t not in index:
            index[t] = len(strings)
            strings.append(t)
        return index[t]

    rows = [[sref(h) for h in HEADER]] + [[sref(v) for v in row] for row in honest_rows(codes, n)]
    xml = (f'<row r="{r}">' + "".join(f'<c r="{col(c)}{r}" t="s"><v>{v}</v></c>' for c, v in enumerate(row)) + "</row>"
           for r, row in enumerate(rows, 1))
    xlsx(path, xml, dimension=f"A1:E{n + 1}", shared=strings, sst_attrs=f' count="{5 * (n + 1)}" uniqueCount="{len(strings)}"')


def lie_about_size(path, member, claimed):
    """Patches `member`'s uncompressed size in its local header and in the
    central directory (the CRC stays that of the real data)."""
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        info = zipfile.ZipFile(path).getinfo(member)
        struct.pack_into("<I", data, info.header_offset + 22, claimed)
        central = data.find(b"PK\x01\x02" + data[info.header_offset + 4:info.header_offset + 10])
        while data[central + 46:central + 46 + len(member)] != member.encode():
            central = data.find(b"PK\x01\x02", central + 4)
        struct.pack_into("<I", data, central + 24, claimed)
        f.seek(0)
        f.write(data)


def unpacked(path):
    """What the reader's archive check sees: total unpacked bytes and the
    highest part ratio as the archive declares them ("-" for CSV)."""
    if not path.endswith(".xlsx"):
        return "-"
    parts = zipfile.ZipFile(path).infolist()
    ratio = max(p.file_size // max(p.compress_size, 1) for p in parts)
    return f"{sum(p.file_size for p in parts) / 2**20:.1f} MiB, ratio {ratio}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--grid-codes", default=",".join(f"150203001001{g:03d}" for g in range(1, 8)),
                    help="grid codes the honest rows use (default: 明日星城社区's seven demo grids)")
    a = ap.parse_args()
    codes = a.grid_codes.split(",")
    os.makedirs(a.dir, exist_ok=True)
    at = lambda name: os.path.join(a.dir, name)  # noqa: E731
    rnd = random.Random(2026)
    made = []  # (name, rows, columns, what)

    # A tiny honest upload, used to warm the server up before each measurement.
    with open(at("warm.csv"), "w", encoding="utf-8") as f:
        f.write(",".join(HEADER) + "\n" + "".join(",".join(r) + "\n" for r in honest_rows(codes, 2)))

    # Honest: 20,000 valid rows (the row limit), CSV and xlsx.
    with open(at("honest.csv"), "w", encoding="utf-8") as f:
        f.write("\ufeff" + ",".join(HEADER) + "\n")
        f.writelines(",".join(r) + "\n" for r in honest_rows(codes, 20_000))
    made.append(("honest.csv", 20_000, 5, "20,000 valid rows"))
    honest_xlsx(at("honest.xlsx"), codes, 20_000)
    made.append(("honest.xlsx", 20_000, 5, "20,000 valid rows, shared strings"))

    # Two cells far apart: A1 and the sheet's last cell XFD1048576 (with the
    # dimension claiming the whole sheet); and the same in one column.
    xlsx(at("sparse.xlsx"), [header_row(["grid_code"]), '<row r="1048576">' + inline("XFD1048576", "x") + "</row>"],
         dimension="A1:XFD1048576")
    made.append(("sparse.xlsx", 1_048_575, 16_384, "A1 and XFD1048576 only"))
    xlsx(at("sparse_tall.xlsx"), [header_row(["grid_code"]), '<row r="1048576">' + inline("A1048576", "x") + "</row>"])
    made.append(("sparse_tall.xlsx", 1_048_575, 1, "A1 and A1048576 only"))

    # A dimension claiming the whole sheet over a header and two valid rows.
    xlsx(at("dimension.xlsx"), [header_row(HEADER)] + [
        f'<row r="{r}">' + "".join(inline(f"{col(c)}{r}", v) for c, v in enumerate(row)) + "</row>"
        for r, row in enumerate(honest_rows(codes, 2), 2)], dimension="A1:XFD1048576")
    made.append(("dimension.xlsx", 2, 5, '<dimension ref="A1:XFD1048576"> over 2 valid rows'))

    # Long: a CSV of 2-byte lines filling 5 MiB.
    head = "grid_code\n"
    lines = (MAX_UPLOAD - len(head)) // 2
    with open(at("long.csv"), "w") as f:
        f.write(head + "1\n" * lines)
    made.append(("long.csv", lines, 1, "one-column lines filling 5 MiB"))

    # Long xlsx: one numeric cell per row, as many rows as the reader's
    # archive check admits (< 50 MiB unpacked, ratio <= 100; 5 MiB packed).
    n = 650_000
    xlsx(at("long.xlsx"), [header_row(["grid_code"])] + [f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(2, n + 2)])
    made.append(("long.xlsx", n, 1, "one numeric cell per row, 33 MiB of sheet XML"))

    # Wide: the largest table the limits admit, 100 columns x 20,000 rows
    # (the template's five columns twenty times over: every column is known,
    # so the whole import runs). Cells carry no reference; numbers and
    # booleans keep it under 50 MiB unpacked.
    def wide_row(i):
        code, kind = codes[i % len(codes)], i % len(KINDS)
        cells = "".join(f'<c><v>{code}</v></c><c><v>{rnd.randrange(1000, 10000)}</v></c><c t="s"><v>{kind}</v></c>'
                        f'<c><v>{i}</v></c><c t="b"><v>{i % 2}</v></c>' for _ in range(20))
        return f"<row>{cells}</row>"
    xlsx(at("wide.xlsx"), ["<row>" + "".join(f'<c t="s"><v>{6 + c}</v></c>' for c in range(5)) * 20 + "</row>"] +
         [wide_row(i) for i in range(20_000)], shared=KINDS + HEADER)
    made.append(("wide.xlsx", 20_000, 100, "2 M cells, every one read into the table"))

    # Big shared strings: ~2,000 strings of 4,000 characters (the cell limit),
    # just under the 8 MiB cap, referenced by 10,000 rows: the 32 MiB text
    # limit stops it near row 8,400.
    # Each <si><t>…</t></si> is 4,017 bytes; the XML head and <sst> take ~150.
    big = ["".join(rnd.choices("ACGT", k=4000)) for _ in range((8 * 2**20 - 300) // 4017)]
    xlsx(at("big_strings.xlsx"), [header_row(HEADER[:3])] + [
        f'<row r="{r}"><c r="A{r}"><v>{codes[0]}</v></c><c r="B{r}" t="s"><v>{r % len(big)}</v></c></row>'
        for r in range(2, 10_002)], shared=big)
    made.append(("big_strings.xlsx", 10_000, 2, "7.98 MiB shared strings of 4,000 chars; 40 MB of text referenced"))
    # The same strings over the cap.
    xlsx(at("big_strings_over.xlsx"), [header_row(HEADER[:3])], shared=big + big[:150])
    made.append(("big_strings_over.xlsx", 0, 3, "8.6 MiB shared strings"))

    # Deep references: 250,000 distinct shared strings (just under the 8 MiB
    # cap), 20,000 rows x 60 columns of cells each pointing at a different
    # one: 1.2 M text cells (each copied out of the table of strings), 19 MB
    # of text, inside every limit.
    strings = [f"共享串{i:07d}" for i in range(250_000)]  # 32 bytes of XML each
    xlsx(at("deep_refs.xlsx"), ["<row>" + "".join(f'<c t="inlineStr"><is><t>{h}</t></is></c>' for h in HEADER) * 12 + "</row>"] +
         ["<row>" + "".join(f'<c t="s"><v>{base + j}</v></c>' for j in range(60)) + "</row>"
          for base in (rnd.randrange(len(strings) - 60) for _ in range(20_000))], shared=strings)
    made.append(("deep_refs.xlsx", 20_000, 60, "1.2 M cells pointing at 250,000 shared strings"))

    # A lying shared-strings count: <sst uniqueCount="..."> asks the reader
    # to reserve room for 10^10 strings (240 GB) before any is read.
    xlsx(at("sst_count.xlsx"), [header_row(["grid_code"])], shared=["x"], sst_attrs=' count="10000000000" uniqueCount="10000000000"')
    made.append(("sst_count.xlsx", 0, 1, 'sharedStrings <sst uniqueCount="10000000000">'))

    # Zip bomb: 400 MB of sheet XML (empty cells) packed into well under 5 MiB.
    cells = "<c/>" * 262_144  # 1 MiB
    xlsx(at("bomb.xlsx"), [header_row(["grid_code"])] + ["<row>" + cells + "</row>" for _ in range(400)])
    made.append(("bomb.xlsx", 400, 262_144, "400 MiB of sheet XML"))
    # The same bomb whose archive claims the sheet is 1 MiB (ratio < 100).
    xlsx(at("bomb_lying.xlsx"), [header_row(["grid_code"])] + ["<row>" + cells + "</row>" for _ in range(400)])
    lie_about_size(at("bomb_lying.xlsx"), "xl/worksheets/sheet1.xml", 1024 * 1024)
    made.append(("bomb_lying.xlsx", 400, 262_144, "400 MiB of sheet XML, sizes claim 1 MiB"))
    # Empty cells are skipped without touching a limit: ~48 MiB of them
    # (inside the archive check) after a header.
    xlsx(at("empty_cells.xlsx"), [header_row(["grid_code"])] +
         [f'<row r="{r}"><c r="A{r}"/>' + "<c/>" * 99 + "</row>" for r in range(2, 120_002)])
    made.append(("empty_cells.xlsx", 120_000, 100, "12 M empty <c/> cells, no value"))

    with open(at("files.tsv"), "w") as f:
        for name, rows, cols, what in made:
            size = os.path.getsize(at(name))
            if size > MAX_UPLOAD: print(f"{name} is {size} bytes")
            f.write(f"{name}\t{size}\t{rows}\t{cols}\t{unpacked(at(name))}\t{what}\n")


if __name__ == "__main__":
    main()
