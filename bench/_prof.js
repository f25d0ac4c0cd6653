const {readFrameFile}=require('../dist/source/frameFile.js');
const {TileEncoder}=require('../dist/codec/tileEncoder.js');
const f=readFrameFile(__dirname+'/../assets/scenes/'+(process.argv[2]||'editor')+'.tcf.gz');
const enc=new TileEncoder({threads:1, deflateLevel:+(process.argv[3]||1)});
const rects=[{x:0,y:0,w:f.width,h:f.height}];
for(let i=0;i<200;i++) enc.encodeSync(f,rects,{keyframe:true});
